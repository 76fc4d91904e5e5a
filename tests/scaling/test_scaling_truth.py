"""The two truth checks issue 15 asks for: real bench cells whose right answer is known.

1. The capacity-limited model (one worker held 10 ms: 100 predictions/s per replica) behind
   nginx with 32 closed-loop users: 1, 2 and 4 replicas serve at least 90 % of N × 100/s, and
   never more than the model allows. Waiting costs no CPU, so this holds on a 2-core machine;
   a cell short of it is measured once more (other work only slows a cell down). Starting
   replicas is most of a cell's time, so each protocol starts its four once: the bench measures
   replica 0 alone, then an nginx of our own over replicas 0-1, then the cluster's nginx over
   all four — each cell the bench's own measurement of servers it did not start (``--target``
   with the replicas' metrics URLs), the same nginx configuration the launcher writes.
2. A CPU-bound model in replicas held to 0.25 CPU each: two replicas serve at least 1.7 × what
   one serves, with the generator pinned on a core of its own.
"""

from __future__ import annotations

import fcntl
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from clients import connect
from clients.base import ClientError
from loadtests.matrix import BenchConfig, Cell, balancer_for
from loadtests.remote import RemoteTargets
from loadtests.runner import CellRun
from protobench.protocols import PROTOCOLS, Protocol
from servers.balancers import Backend, BalancerError, get_balancer
from servers.balancers.base import host_port
from servers.cpu_quota import CpuQuota, QuotaError
from servers.launcher import free_port, launch
from tests.support.protocols import marker

pytestmark = pytest.mark.serial  # throughput per replica: measured alone, not beside other tests

PER_REPLICA = 100.0  # K = 1 worker, S = 10 ms
ATTEMPTS = 2  # other work on a shared machine only ever lowers a cell's throughput: keep the best
BENCH_LOCK = Path("/tmp/protobench-bench.lock")  # one benchmark at a time on this machine


@contextmanager
def _alone() -> Iterator[None]:
    with BENCH_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


HOST = "127.0.0.1"
START_S = 30.0


def _run(tmp_path: Path, config: BenchConfig, protocol: Protocol, n: int) -> dict[str, Any]:
    cell = Cell(protocol, n, balancer_for(protocol, n, config.balancer), max(config.users), None,
                1, "iris", 0)  # fmt: skip
    return CellRun(cell, config, tmp_path / cell.cell_id).run(lambda *_: None)


@contextmanager
def _nginx(protocol: Protocol, backends: list[Backend], workdir: Path) -> Iterator[str]:
    """nginx over ``backends``, configured as the launcher configures it; its target."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port(HOST)
    process = get_balancer("nginx").start(protocol, backends, HOST, port, workdir)
    assert isinstance(process, subprocess.Popen)
    target = host_port(HOST, port)
    try:
        deadline = time.monotonic() + START_S
        while True:
            assert process.poll() is None, (workdir / "nginx.log").read_text()
            try:
                with connect(protocol, target, timeout=2.0) as client:
                    client.health()
                break
            except ClientError:
                assert time.monotonic() < deadline, f"nginx at {target} did not answer"
                time.sleep(0.1)
        yield target
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(10.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _needs_nginx(protocol: Protocol) -> None:
    try:
        get_balancer("nginx").check(protocol)
    except BalancerError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("protocol", [pytest.param(p, marks=marker(p)) for p in PROTOCOLS])
def test_replicas_of_the_capacity_limited_model_scale_linearly(
    tmp_path: Path, protocol: Protocol
) -> None:
    _needs_nginx(protocol)
    config = BenchConfig(
        balancer="nginx", users=(32,), duration_s=4.0, warmup_s=1.5, calibration_calls=10,
        model_workers=1, model_service_ms=10.0,
    )  # fmt: skip
    measured: dict[int, list[tuple[float, list[str]]]] = {}
    with _alone(), launch(protocol, replicas=4, balancer="nginx", serve_args=config.serve_args(),
                          workdir=tmp_path / "replicas") as cluster:  # fmt: skip
        backends = [Backend(r.name, HOST, r.port) for r in cluster.replicas]
        urls = [r.metrics_url or "" for r in cluster.replicas]
        fronts: dict[int, AbstractContextManager[str]] = {
            1: nullcontext(backends[0].address),
            2: _nginx(protocol, backends[:2], tmp_path / "nginx-2"),
            4: nullcontext(cluster.target),
        }
        for n, front in fronts.items():
            with front as target:
                remote = RemoteTargets((target,), tuple(urls[:n]))
                for attempt in range(ATTEMPTS):
                    folder = tmp_path / f"attempt-{attempt}"
                    result = _run(folder, replace(config, remote=remote), protocol, n)
                    assert result["errors"] == {}, result["errors"]
                    measured.setdefault(n, []).append((result["requests_per_s"], result["flags"]))
                    if result["requests_per_s"] >= 0.9 * n * PER_REPLICA:
                        break
    for n, attempts in measured.items():
        best = max(rps for rps, _ in attempts)
        assert best <= 1.05 * n * PER_REPLICA, measured  # the model cannot serve faster
        if best < 0.9 * n * PER_REPLICA:
            # Short only with the bench's own account of why: other work took the CPUs this
            # cell needed (SOAP's four replicas need 1.2 of the 2 at 400/s, so they are the
            # first to fall short on a shared machine). A clean machine never raises it.
            assert all("cpu-contended" in flags for _, flags in attempts), measured


@pytest.mark.rest
def test_replicas_held_to_a_cpu_quota_scale_with_their_quota(tmp_path: Path) -> None:
    _needs_nginx("rest")
    try:
        CpuQuota.choose(0.25).remove()
    except QuotaError as exc:
        pytest.skip(str(exc))
    config = BenchConfig(
        balancer="nginx", users=(16,), duration_s=5.0, warmup_s=2.0, calibration_calls=10,
        model_cpu_ms=2.0, replica_cpus=0.25,
    )  # fmt: skip
    best: dict[int, float] = {}
    with _alone():
        for attempt in range(ATTEMPTS):  # best of each: other work only slows a cell down
            for n in (1, 2):
                result = _run(tmp_path / f"attempt-{attempt}", config, "rest", n)
                assert result["errors"] == {}
                assert result["cpu_quota"]["cpus_per_replica"] == 0.25
                assert result["pinning"]["pinned"]
                assert len(result["pinning"]["server_cpus"]) == 1
                best[n] = max(best.get(n, 0.0), result["requests_per_s"])
            if best[2] >= 1.7 * best[1]:
                break
    assert best[2] >= 1.7 * best[1], best
