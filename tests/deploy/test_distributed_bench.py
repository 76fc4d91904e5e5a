"""`bench --target` against a server bench did not start, with Locust in distributed mode: a
master and two workers whose exact samples are merged into one result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from servers.metrics import metrics_url, scrape
from tests.support.servers import running_server

BENCH = [sys.executable, "-m", "protobench.cli", "bench", "--protocols", "rest", "--users", "4",
         "--duration", "2", "--warmup", "1"]  # fmt: skip


def _bench(args: list[str], out: Path) -> tuple[dict[str, Any], Path]:
    done = subprocess.run([*BENCH, *args, "--out", str(out)], capture_output=True, text=True,
                          timeout=240, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [path] = out.glob("*/results.json")
    document = json.loads(path.read_text())
    [cell] = document["cells"]
    return document, path.parent / "cells" / cell["cell_id"] / "samples"


def _all_samples(folder: Path) -> list[int]:
    return [len(np.load(p)["sent"]) for p in sorted(folder.glob("samples-*.npz"))]


@pytest.mark.timeout(900)  # several Python processes start; minutes on a busy 2-core machine
def test_two_local_workers_measure_an_external_server(tmp_path: Path, models_dir: Path) -> None:
    metrics = ["--metrics-port", "0", "--metrics-port-file", str(tmp_path / "metrics.port")]
    with running_server("rest", tmp_path / "server", models_dir, *metrics) as server:
        url = metrics_url("127.0.0.1", int((tmp_path / "metrics.port").read_text()))
        before = scrape(url).predictions
        document, samples = _bench(
            ["--target", server.target, "--generator-workers", "2"], tmp_path / "out"
        )
        served = scrape(url).predictions - before
    [cell] = document["cells"]
    assert document["manifest"]["servers"] == "external"
    assert cell["servers"] == {"external": True, "targets": [server.target], "metrics_urls": []}
    assert cell["ok"] > 0 and cell["errors"] == {}
    # bench did not start the server and had no metrics URL: its CPU is unknown, not zero
    assert cell["cpu"]["server_s"] is None and "server-cpu-unknown" in cell["flags"]
    per_worker = _all_samples(samples)
    assert len(per_worker) == 2 and min(per_worker) > 0  # one file per worker, via the master
    # every request the server answered is in the merged samples (plus the wire calibration)
    calibration = document["config"]["calibration_calls"] + 1
    assert sum(per_worker) + calibration == served


@pytest.mark.timeout(900)  # several Python processes start; minutes on a busy 2-core machine
def test_a_worker_joins_from_the_worker_command(tmp_path: Path, models_dir: Path) -> None:
    """`protobench worker --master HOST` is the remote half: here it runs beside the master;
    with --metrics-url the external server's CPU is measured from its metrics port."""
    from servers.launcher import free_port

    port = free_port("127.0.0.1")
    metrics = ["--metrics-port", "0", "--metrics-port-file", str(tmp_path / "metrics.port")]
    with running_server("jsonrpc", tmp_path / "server", models_dir, *metrics) as server:
        url = metrics_url("127.0.0.1", int((tmp_path / "metrics.port").read_text()))
        worker = subprocess.Popen(
            [sys.executable, "-m", "protobench.cli", "worker", "--master", "127.0.0.1",
             "--master-port", str(port), "--once"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            document, samples = _bench(
                ["--protocols", "jsonrpc", "--target", server.target, "--generator-workers", "0",
                 "--remote-workers", "1", "--master-port", str(port), "--metrics-url", url],
                tmp_path / "out",
            )  # fmt: skip
            assert worker.wait(timeout=60) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    [cell] = document["cells"]
    assert cell["protocol"] == "jsonrpc" and cell["ok"] > 0
    assert "generator-cpu-this-machine-only" in cell["flags"]
    assert len(_all_samples(samples)) == 1
    assert cell["servers"]["metrics_urls"] == [url] and cell["replica_requests"][url] > 0
    assert cell["cpu"]["server_s"] > 0 and "server-cpu-unknown" not in cell["flags"]
