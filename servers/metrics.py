"""A replica's request counters in Prometheus' text format, served on a side port.

Why a side port rather than ``GET /metrics`` on the API port: it is one mechanism for all four
protocols (gRPC has no GET), and it still reaches *this* replica when several replicas share
one API port with SO_REUSEPORT — there the kernel, not the caller, picks who answers.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from protobench.core.service import InferenceService
from servers.listen import Listen, announce, bind_socket

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREDICT_OPERATIONS = ("predict", "predict_image")

_SAMPLE = re.compile(
    r'^protobench_requests_total\{operation="(?P<operation>[a-z_]+)",'
    r'outcome="(?P<outcome>[a-z]+)"\} (?P<value>\d+)$'
)
_READY = re.compile(r"^protobench_ready (?P<value>[01])$")
_MODEL = re.compile(r"^protobench_model_(?P<name>[a-z_]+) (?P<value>\d+)$")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(service: InferenceService) -> str:
    lines = [
        "# HELP protobench_requests_total Core operations served, by operation and outcome.",
        "# TYPE protobench_requests_total counter",
    ]
    for (operation, outcome), count in sorted(service.counters.snapshot().items()):
        lines.append(
            f'protobench_requests_total{{operation="{operation}",outcome="{outcome}"}} {count}'
        )
    lines += [
        "# HELP protobench_ready 1 once the models are loaded.",
        "# TYPE protobench_ready gauge",
        f"protobench_ready {int(service.ready)}",
        "# HELP protobench_replica_info The replica's identity (its served_by).",
        "# TYPE protobench_replica_info gauge",
        f'protobench_replica_info{{replica="{_label(service.served_by)}"}} 1',
        *_model_workers(service),
    ]
    return "\n".join(lines) + "\n"


def _model_workers(service: InferenceService) -> list[str]:
    """The capacity-limited model's workers and queue, when it has a worker limit."""
    pool = service.model_cost.pool
    if pool is None:
        return []
    stats = pool.stats()
    gauges = {
        "workers": ("Predictions the model computes at a time (K).", stats.workers),
        "workers_busy": ("Workers holding a prediction now.", stats.busy),
        "queue": ("Predictions waiting for a worker now.", stats.queued),
        "workers_busy_peak": ("Most workers busy at once since start.", stats.peak_busy),
        "queue_peak": ("Longest queue since start.", stats.peak_queued),
        "served": ("Predictions the workers have finished.", stats.served),
    }
    lines = []
    for name, (help_text, value) in gauges.items():
        lines += [
            f"# HELP protobench_model_{name} {help_text}",
            f"# TYPE protobench_model_{name} gauge",
            f"protobench_model_{name} {value}",
        ]
    return lines


def start_metrics_server(service: InferenceService, listen: Listen) -> ThreadingHTTPServer:
    """Serve ``GET /metrics`` from a daemon thread and announce the port like the API's."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "only /metrics is served here")
                return
            body = render(service).encode()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Scrapes are not news; stay quiet."""

    server = ThreadingHTTPServer((listen.host, listen.port), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = bind_socket(listen)  # family-aware, and refuses a busy port clearly
    server.server_address = server.socket.getsockname()[:2]
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="protobench-metrics", daemon=True).start()
    announce(listen, "metrics", server.server_address[1])
    return server


def metrics_url(host: str, port: int) -> str:
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/metrics"


class Scrape:
    """One read of a replica's ``/metrics``."""

    def __init__(self, text: str) -> None:
        self.requests: dict[tuple[str, str], int] = {}
        self.ready = False
        self.model: dict[str, int] = {}  # the model's worker gauges, by name without prefix
        for line in text.splitlines():
            if sample := _SAMPLE.match(line):
                key = (sample["operation"], sample["outcome"])
                self.requests[key] = int(sample["value"])
            elif ready := _READY.match(line):
                self.ready = ready["value"] == "1"
            elif model := _MODEL.match(line):
                self.model[model["name"]] = int(model["value"])

    @property
    def predictions(self) -> int:
        """Predict calls served, whatever their outcome (features and images)."""
        return sum(n for (op, _), n in self.requests.items() if op in PREDICT_OPERATIONS)


def scrape(url: str, timeout: float = 2.0) -> Scrape:
    """Read a replica's counters; raises ``httpx.HTTPError`` when it does not answer."""
    response = httpx.get(url, timeout=timeout)
    response.raise_for_status()
    return Scrape(response.text)
