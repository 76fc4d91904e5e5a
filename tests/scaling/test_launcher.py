"""Launcher details the balancing tests do not cover: pinning, a launch that fails, and a
launcher that dies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from servers.launcher import LaunchError, launch
from tests.scaling.conftest import still_running


@pytest.mark.rest
def test_cpus_pin_every_replica_thread(models_dir: Path, tmp_path: Path) -> None:
    cpu = sorted(os.sched_getaffinity(0))[-1]
    serve_args = ["--models-dir", str(models_dir)]
    with launch("rest", serve_args=serve_args, workdir=tmp_path, cpus=[cpu]) as cluster:
        (replica,) = cluster.replicas
        threads = psutil.Process(replica.pid).threads()
        assert len(threads) > 1
        assert all(os.sched_getaffinity(t.id) == {cpu} for t in threads)
        assert cluster.balancer_pid is None and cluster.pids() == [replica.pid]
        assert cluster.target == f"127.0.0.1:{replica.port}" and cluster.port == replica.port


@pytest.mark.rest
def test_a_replica_that_cannot_start_is_reported_and_nothing_is_left(tmp_path: Path) -> None:
    with (
        pytest.raises(LaunchError, match="replica-0 exited") as failure,
        launch("rest", replicas=2, serve_args=["--max-batch", "0"], workdir=tmp_path),
    ):
        pass
    assert "max_batch" in str(failure.value)  # the replica's own complaint, from its log
    ours = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(tmp_path) in " ".join(p.info["cmdline"] or [])
    ]
    assert not still_running(ours)


LAUNCHER_SCRIPT = """
import sys, time
from pathlib import Path
from servers.launcher import launch
models, workdir = sys.argv[1:]
with launch("rest", replicas=2, serve_args=["--models-dir", models], workdir=Path(workdir)) as c:
    print(*c.pids(), flush=True)
    time.sleep(120)
"""


@pytest.mark.rest
def test_replicas_do_not_outlive_a_killed_launcher(models_dir: Path, tmp_path: Path) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER_SCRIPT, str(models_dir), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert launcher.stdout is not None
        replicas = [psutil.Process(int(pid)) for pid in launcher.stdout.readline().split()]
        assert len(replicas) == 2
    finally:
        launcher.kill()  # SIGKILL: no cleanup code of the launcher runs
        launcher.wait()
    _, alive = psutil.wait_procs(replicas, timeout=15)
    for process in alive:
        process.kill()
    assert not alive, "replicas outlived their launcher"
