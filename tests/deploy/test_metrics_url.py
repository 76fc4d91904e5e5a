"""`bench --target --metrics-url`: the server's CPU and predict counts read from a real metrics
port (servers/metrics.py, prometheus_client), here served by this very process so the CPU it
burns is known."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loadtests.remote import UNKNOWN_CPU_FLAG, ExternalTargets, RemoteTargets, ScrapedCpuWindow
from protobench.core.service import InferenceService
from servers.listen import Listen
from servers.metrics import MetricsServer, metrics_url, start_metrics_server

SETOSA = [5.1, 3.5, 1.4, 0.2]
BURN_S = 0.3
TICK_S = 0.02  # /proc counts CPU in 10 ms ticks; two reads, two roundings


@pytest.fixture
def metrics_port(service: InferenceService) -> Iterator[MetricsServer]:
    server = start_metrics_server(service, Listen("127.0.0.1", 0), protocol="rest")
    yield server
    server.shutdown()
    server.server_close()


def _url(server: MetricsServer) -> str:
    return metrics_url("127.0.0.1", server.server_address[1])


def _burn(seconds: float) -> float:
    """Spin on this thread for ``seconds`` of its CPU time; returns the CPU time used."""
    started = time.thread_time()
    while time.thread_time() - started < seconds:
        sum(range(1000))
    return time.thread_time() - started


def test_the_window_reads_the_serving_process_cpu(metrics_port: MetricsServer) -> None:
    window = ScrapedCpuWindow((_url(metrics_port),))
    window.start()
    burned = _burn(BURN_S)
    usage = window.stop()
    assert window.known and usage.processes == 1
    # the whole process's CPU: the burn, plus the metrics thread answering the two scrapes
    assert burned - TICK_S <= usage.total_s <= burned + 0.25


def test_external_targets_count_predictions_and_keep_the_cpu(
    metrics_port: MetricsServer, service: InferenceService, tmp_path: Path
) -> None:
    url = _url(metrics_port)
    targets = ExternalTargets("rest", RemoteTargets(("127.0.0.1:1",), (url,)), tmp_path / "n")
    before = targets.request_counts()[url]
    targets.cpu.start()
    for _ in range(3):
        service.predict("iris", [SETOSA])
    _burn(0.05)
    usage = targets.cpu.stop()
    assert targets.request_counts()[url] - before == 3
    result = {"cpu": {"server_s": usage.total_s}, "flags": []}
    targets.annotate(result)
    assert result["cpu"]["server_s"] == usage.total_s > 0 and result["flags"] == []


def test_a_replica_that_stops_answering_makes_the_cpu_unknown(
    metrics_port: MetricsServer, tmp_path: Path
) -> None:
    url = _url(metrics_port)
    targets = ExternalTargets("rest", RemoteTargets(("127.0.0.1:1",), (url,)), tmp_path / "n")
    targets.cpu.start()
    metrics_port.shutdown()
    metrics_port.server_close()
    targets.cpu.stop()
    result = {"cpu": {"server_s": 1.0}, "flags": []}
    targets.annotate(result)
    assert result["cpu"]["server_s"] is None and result["flags"] == [UNKNOWN_CPU_FLAG]
