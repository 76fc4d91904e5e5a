"""A replica's metrics in Prometheus' format (prometheus_client), served on a side port.

Why a side port rather than ``GET /metrics`` on the API port: it is one mechanism for every
protocol (gRPC has no GET), and it still reaches *this* replica when several replicas share
one API port with SO_REUSEPORT — there the kernel, not the caller, picks who answers.

What is exported (every series carries ``protocol``):
- ``protobench_requests_total{operation,outcome}``: core operations served;
- ``protobench_request_duration_seconds{operation,outcome}``: a histogram of each call's time
  in the core (validation, routing, the emulated delay, the model), the adapter's decode and
  encode excluded;
- ``protobench_inference_duration_seconds{model,version,outcome}``: the model's computation
  alone, as Triton and MLServer keep it apart from the request;
- ``protobench_requests_in_flight{operation}``, ``protobench_ready``,
  ``protobench_replica_info{replica}``;
- with the capacity-limited model (``--model-workers``), its workers read at scrape time:
  ``protobench_model_workers``, ``…_workers_busy``, ``…_queue``, their peaks since start
  (``…_workers_busy_peak``, ``…_queue_peak``) and ``protobench_model_served_total``;
- prometheus_client's ``process_*`` series of the serving process (``process_cpu_seconds_total``
  is what ``bench --target --metrics-url`` measures a server's CPU with).

A replica started by ``servers.launcher`` gets its own ``PROMETHEUS_MULTIPROC_DIR``: the
library keeps each process's values in a file there, so after the supervisor restarts a
killed replica its counters go on from where the dead process left them (prometheus_client's
multiprocess mode), and per-replica shares stay right across restarts.

The port is small on purpose: one thread per connection, at most ``MAX_CONNECTIONS`` at once
(the next is refused with 503), a request head that has not arrived ``CONNECTION_DEADLINE_S``
after the connection opened is dropped, and one larger than ``MAX_HEAD_BYTES`` is refused with
431 before more of it is read.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from protobench.core.capacity import FifoWorkers
from protobench.core.service import InferenceService, Outcome
from servers.listen import Listen, announce, bind_socket

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PREDICT_OPERATIONS = ("predict", "predict_image")
MAX_CONNECTIONS = 16
CONNECTION_DEADLINE_S = 5.0
MAX_HEAD_BYTES = 16 * 1024
# Seconds. A one-row predict takes ~0.1 ms in the core; a 1000-row batch or a delayed model,
# tens of milliseconds.
REQUEST_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                   0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # fmt: skip
INFERENCE_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                     0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)  # fmt: skip

# The *_created series would only double what every scrape has to parse.
disable_created_metrics()  # type: ignore[no-untyped-call]


def _multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


MODEL_PREFIX = "protobench_model_"


class ModelWorkers(Collector):
    """The capacity-limited model's workers and queue, read from its pool at each scrape.

    A custom collector rather than gauges set on every call: the pool already keeps these
    numbers under its lock, and a scrape reads them in one consistent snapshot. They belong to
    the live process alone (a restarted replica starts with an empty queue and fresh peaks),
    so in multiprocess mode they are added beside the merged files, not written to them."""

    def __init__(self, pool: FifoWorkers, protocol: str) -> None:
        self.pool = pool
        self.protocol = protocol

    def collect(self) -> Iterable[Metric]:
        stats = self.pool.stats()
        gauges = (
            ("workers", "Predictions the model computes at a time (K).", stats.workers),
            ("workers_busy", "Workers holding a prediction now.", stats.busy),
            ("queue", "Predictions waiting for a worker now.", stats.queued),
            ("workers_busy_peak", "Most workers busy at once since start.", stats.peak_busy),
            ("queue_peak", "Longest queue since start.", stats.peak_queued),
        )
        for name, help_text, value in gauges:
            gauge = GaugeMetricFamily(MODEL_PREFIX + name, help_text, labels=["protocol"])
            gauge.add_metric([self.protocol], value)
            yield gauge
        served = CounterMetricFamily(MODEL_PREFIX + "served",
                                     "Predictions the model's workers have finished.",
                                     labels=["protocol"])  # fmt: skip
        served.add_metric([self.protocol], stats.served)
        yield served


class ReplicaMetrics:
    """The prometheus_client metrics of one service; installs itself as its observer."""

    def __init__(self, service: InferenceService, protocol: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        register = self.registry
        ProcessCollector(registry=register)
        self.requests = Counter(
            "protobench_requests",
            "Core operations served, by operation and outcome.",
            ["protocol", "operation", "outcome"],
            registry=register,
        )
        self.duration = Histogram(
            "protobench_request_duration_seconds",
            "Time of each call in the core, by operation and outcome (decode/encode excluded).",
            ["protocol", "operation", "outcome"],
            buckets=REQUEST_BUCKETS,
            registry=register,
        )
        self.inference = Histogram(
            "protobench_inference_duration_seconds",
            "Time of the model's computation alone, by model, version and outcome.",
            ["protocol", "model", "version", "outcome"],
            buckets=INFERENCE_BUCKETS,
            registry=register,
        )
        self.in_flight = Gauge("protobench_requests_in_flight", "Calls being served now.",
                               ["protocol", "operation"], registry=register,
                               multiprocess_mode="livesum")  # fmt: skip
        self.ready = Gauge("protobench_ready", "1 once the models are loaded.", ["protocol"],
                           registry=register, multiprocess_mode="livemax")  # fmt: skip
        self.info = Gauge("protobench_replica_info", "The replica's identity (its served_by).",
                          ["protocol", "replica"], registry=register,
                          multiprocess_mode="livemax")  # fmt: skip
        self.protocol = protocol
        self._children: dict[tuple[object, ...], Any] = {}
        self.info.labels(protocol, service.served_by).set(1)
        self._ready_child = self.ready.labels(protocol)
        pool = service.model_cost.pool
        self.workers = ModelWorkers(pool, protocol) if pool is not None else None
        if self.workers is not None:
            self.registry.register(self.workers)
        service.counters.observer = self

    # -- the core's observer ----------------------------------------------------------------

    # ``labels()`` takes a lock and builds a key on every call; the children are cached here
    # (a dict read is safe under the GIL, a rare miss only repeats the lookup).

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.protocol, *labels)
        return child

    def request_started(self, operation: str) -> None:
        self._child(self.in_flight, operation).inc()

    def request_finished(self, operation: str, outcome: Outcome, seconds: float) -> None:
        self._child(self.in_flight, operation).dec()
        self._child(self.requests, operation, outcome).inc()
        self._child(self.duration, operation, outcome).observe(seconds)

    def inference_finished(
        self, model: str, version: str, outcome: Outcome, seconds: float
    ) -> None:
        self._child(self.inference, model, version, outcome).observe(seconds)

    # -- exposition -------------------------------------------------------------------------

    def render(self) -> bytes:
        self._ready_child.set(int(self.service.ready))
        if not _multiprocess():
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]  # every process of this replica, the dead ones too
        if self.workers is not None:
            merged.register(self.workers)
        ProcessCollector(registry=merged)  # the live process's CPU: it restarts from 0 with it
        return generate_latest(merged)


def forget_process(pid: int, directory: Path) -> None:
    """Drop a dead process's live gauges (in flight, ready); its counters stay counted."""
    mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


class _HeadTooLarge(Exception):
    pass


class _HeadReader:
    """Reads the request head within the connection's budget: at most ``MAX_HEAD_BYTES``
    (refused before more is buffered) and only until its deadline (each read's socket timeout
    is what is left of it), so a client trickling bytes cannot hold a slot."""

    def __init__(self, raw: Any, connection: socket.socket) -> None:
        self._raw = raw
        self._connection = connection
        self._left = MAX_HEAD_BYTES
        self._deadline = time.monotonic() + CONNECTION_DEADLINE_S

    def readline(self, limit: int = -1) -> bytes:
        if self._left <= 0:
            raise _HeadTooLarge
        self._connection.settimeout(max(self._deadline - time.monotonic(), 0.001))
        line: bytes = self._raw.readline(self._left if limit < 0 else min(limit, self._left))
        self._left -= len(line)
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _Handler(BaseHTTPRequestHandler):
    metrics: ReplicaMetrics

    def setup(self) -> None:
        super().setup()
        self.rfile = _HeadReader(self.rfile, self.connection)  # type: ignore[assignment]

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the client left, or its deadline passed
            super().finish()

    def handle(self) -> None:
        try:
            super().handle()
        except _HeadTooLarge:
            self.send_error(431, f"request head over {MAX_HEAD_BYTES} bytes")
        except OSError:
            pass  # the deadline passed, or the client left

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404, "only /metrics is served here")
            return
        body = self.metrics.render()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Scrapes are not news; stay quiet."""


class MetricsServer(ThreadingHTTPServer):
    """A thread per connection, at most ``MAX_CONNECTIONS`` of them."""

    daemon_threads = True

    def __init__(self, listen: Listen, metrics: ReplicaMetrics) -> None:
        handler = type("Handler", (_Handler,), {"metrics": metrics})
        super().__init__((listen.host, listen.port), handler, bind_and_activate=False)
        self.socket.close()
        self.socket = bind_socket(listen)  # family-aware, and refuses a busy port clearly
        self.server_address = self.socket.getsockname()[:2]
        self.metrics = metrics
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(
                    b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    b"Retry-After: 1\r\nConnection: close\r\n\r\n"
                )
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def start_metrics_server(
    service: InferenceService, listen: Listen, protocol: str = "in-process"
) -> MetricsServer:
    """Serve ``GET /metrics`` from a daemon thread and announce the port like the API's."""
    server = MetricsServer(listen, ReplicaMetrics(service, protocol))
    threading.Thread(target=server.serve_forever, name="protobench-metrics", daemon=True).start()
    announce(listen, "metrics", server.server_address[1])
    return server


def metrics_url(host: str, port: int) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/metrics"


class Scrape:
    """One read of a replica's ``/metrics``, parsed by prometheus_client's own parser."""

    def __init__(self, text: str) -> None:
        self.requests: dict[tuple[str, str], int] = {}
        self.ready = False
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        # The capacity-limited model's workers (ModelWorkers), by name without the prefix;
        # empty when the replica's model has no worker limit.
        self.model: dict[str, int] = {
            name.removeprefix(MODEL_PREFIX): int(sum(s.value for s in family.samples
                                                     if s.name in (name, f"{name}_total")))
            for name, family in self.families.items()
            if name.startswith(MODEL_PREFIX)
        }  # fmt: skip
        cpu = self._samples("process_cpu_seconds", "process_cpu_seconds_total")
        self.cpu_seconds: float | None = sum(s.value for s in cpu) if cpu else None
        for sample in self._samples("protobench_requests", "protobench_requests_total"):
            key = (sample.labels["operation"], sample.labels["outcome"])
            self.requests[key] = self.requests.get(key, 0) + int(sample.value)
        self.ready = any(
            s.value == 1 for s in self._samples("protobench_ready", "protobench_ready")
        )

    def _samples(self, family: str, name: str) -> Iterable[Any]:
        found = self.families.get(family)
        return [s for s in found.samples if s.name == name] if found else []

    @property
    def predictions(self) -> int:
        """Predict calls served, whatever their outcome (features and images)."""
        return sum(n for (op, _), n in self.requests.items() if op in PREDICT_OPERATIONS)

    def histogram(self, family: str, **labels: str) -> dict[float, float]:
        """A histogram's cumulative buckets (upper bound -> count), summed over the series
        whose labels include ``labels``."""
        buckets: dict[float, float] = {}
        for sample in self._samples(family, f"{family}_bucket"):
            if all(sample.labels.get(k) == v for k, v in labels.items()):
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
        return dict(sorted(buckets.items()))


def scrape(url: str, timeout: float = 2.0) -> Scrape:
    """Read a replica's metrics; raises ``httpx.HTTPError`` when it does not answer."""
    response = httpx.get(url, timeout=timeout)
    response.raise_for_status()
    return Scrape(response.text)
