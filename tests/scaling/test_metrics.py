"""The metrics side port: prometheus_client's exposition read back with its own parser, the
histograms, the port's limits, and per-replica counts that survive a killed replica."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clients import connect
from protobench.core.errors import CoreError
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from servers.launcher import launch
from servers.listen import Listen
from servers.metrics import (
    CONNECTION_DEADLINE_S,
    MAX_CONNECTIONS,
    MAX_HEAD_BYTES,
    ReplicaMetrics,
    Scrape,
    metrics_url,
    scrape,
    start_metrics_server,
)

SETOSA = [5.1, 3.5, 1.4, 0.2]


@pytest.fixture
def metrics_url_of_service(service: InferenceService) -> Iterator[str]:
    server = start_metrics_server(service, Listen("127.0.0.1", 0), protocol="rest")
    yield metrics_url("127.0.0.1", server.server_address[1])
    server.shutdown()
    server.server_close()


def test_exposition_parses_back_with_counts_and_histograms(service: InferenceService) -> None:
    metrics = ReplicaMetrics(service, "grpc")
    service.predict("iris", [SETOSA])
    service.predict("iris", [SETOSA])
    with pytest.raises(CoreError):
        service.predict("iris", [[1.0]])
    text = metrics.render().decode()
    assert "# TYPE protobench_requests_total counter" in text
    assert 'protobench_requests_total{operation="predict",outcome="ok",protocol="grpc"} 2.0' in text
    assert 'protobench_replica_info{protocol="grpc",replica="test-replica"} 1.0' in text
    parsed = Scrape(text)
    assert parsed.ready
    assert parsed.requests == {("predict", "ok"): 2, ("predict", "error"): 1}
    assert parsed.predictions == 3
    requests = parsed.histogram("protobench_request_duration_seconds", operation="predict")
    assert requests[float("inf")] == 3  # every call, ok or not
    inference = parsed.histogram("protobench_inference_duration_seconds", model="iris")
    assert inference[float("inf")] == 2  # the refused call never reached the model
    assert list(inference.values()) == sorted(inference.values())  # cumulative buckets
    in_flight = parsed.families["protobench_requests_in_flight"].samples
    assert {s.labels["operation"]: s.value for s in in_flight} == {"predict": 0.0}


def test_the_capacity_limited_models_workers_are_exported(settings: Settings) -> None:
    plain = InferenceService(settings)
    assert Scrape(ReplicaMetrics(plain, "rest").render().decode()).model == {}  # no limit
    limited = InferenceService(settings.model_copy(update={"model_workers": 2,
                                                           "model_service_ms": 1.0}))  # fmt: skip
    limited.load()
    metrics = ReplicaMetrics(limited, "rest")
    pool = limited.model_cost.pool
    assert pool is not None
    pool.acquire(), pool.acquire()  # both workers held: the next call queues
    queued = threading.Thread(target=limited.predict, args=("iris", [SETOSA]))
    queued.start()
    while pool.stats().queued == 0:
        time.sleep(0.001)
    during = Scrape(metrics.render().decode()).model
    pool.release(), pool.release()
    queued.join(5.0)
    text = metrics.render().decode()
    assert "# TYPE protobench_model_served_total counter" in text
    after = Scrape(text).model
    assert during == {"workers": 2, "workers_busy": 2, "queue": 1, "workers_busy_peak": 2,
                      "queue_peak": 1, "served": 0}  # fmt: skip
    assert after == {"workers": 2, "workers_busy": 0, "queue": 0, "workers_busy_peak": 2,
                     "queue_peak": 1, "served": 3}  # fmt: skip


def test_endpoint_serves_live_counts(
    service: InferenceService, metrics_url_of_service: str
) -> None:
    assert scrape(metrics_url_of_service).predictions == 0
    service.predict("iris", [SETOSA])
    response = httpx.get(metrics_url_of_service)
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert Scrape(response.text).predictions == 1


def test_endpoint_serves_metrics_only(metrics_url_of_service: str) -> None:
    other = metrics_url_of_service.removesuffix("/metrics") + "/admin"
    assert httpx.get(other).status_code == 404


def _port(url: str) -> int:
    return int(url.rpartition(":")[2].removesuffix("/metrics"))


def test_slow_and_oversized_clients_are_bounded(metrics_url_of_service: str) -> None:
    port = _port(metrics_url_of_service)
    threads_before = threading.active_count()
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(MAX_CONNECTIONS + 8)]
    try:
        for s in slow:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        time.sleep(0.5)
        assert threading.active_count() - threads_before <= MAX_CONNECTIONS
        refused = httpx.get(metrics_url_of_service, timeout=5)
        assert refused.status_code == 503  # every slot is held: a clear refusal, not a hang
        time.sleep(CONNECTION_DEADLINE_S + 1)
        assert httpx.get(metrics_url_of_service, timeout=5).status_code == 200  # slots freed
    finally:
        for s in slow:
            s.close()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as big:
        big.sendall(b"GET /metrics HTTP/1.1\r\n" + b"X-Pad: " + b"a" * MAX_HEAD_BYTES + b"\r\n")
        assert big.recv(64).startswith(b"HTTP/1.0 431")


@pytest.mark.jsonrpc
def test_per_replica_counts_go_on_across_a_restart(models_dir: Path) -> None:
    serve_args = ["--models-dir", str(models_dir)]
    with launch("jsonrpc", replicas=1, serve_args=serve_args) as cluster:
        with connect("jsonrpc", cluster.target) as client:
            for _ in range(7):
                client.predict("iris", [SETOSA])
        assert cluster.request_counts() == {"replica-0": 7}
        old = cluster.replicas[0].pid
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while cluster.replicas[0].pid == old or not cluster.health()["replica-0"]:
            assert time.monotonic() < deadline, "the replica was not restarted"
            time.sleep(0.1)
        with connect("jsonrpc", cluster.target) as client:
            for _ in range(5):
                client.predict("iris", [SETOSA])
        assert cluster.request_counts() == {"replica-0": 12}  # the dead process's 7 kept
