"""`protobench bench` end to end, as `make demo` calls it: a relative --out, a real cell."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("protocol", ["rest", "grpc", "oip-grpc"])
def test_bench_writes_results_json_and_sqlite_with_a_relative_out(
    tmp_path: Path, protocol: str
) -> None:
    """A real Locust run of the protocol's user (gRPC's over clients/grpc_h2c.py): no failure."""
    command = [
        sys.executable, "-m", "protobench.cli", "bench", "--protocols", protocol, "--users", "2",
        "--duration", "2", "--warmup", "1", "--out", "results",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    [path] = (tmp_path / "results").glob("*/results.json")
    document = json.loads(path.read_text())
    [cell] = document["cells"]
    assert cell["ok"] > 0 and cell["requests_per_s"] > 0
    assert cell["errors"] == {}
    # flags that describe the machine this shared suite runs on, not a fault of the bench
    assert set(cell["flags"]) <= {"generator-bound", "unstable", "cpu-contended"}
    assert document["manifest"]["libraries"]["locust"]
    assert (path.parent / "cells" / cell["cell_id"] / "locust_stats.csv").exists()
    with sqlite3.connect(tmp_path / "results" / "results.db") as db:
        rows = db.execute("SELECT protocol, requests_per_s FROM cells").fetchall()
    assert rows == [(protocol, cell["requests_per_s"])]
    assert "results:" in done.stdout
