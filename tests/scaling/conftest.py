"""Real clusters for the scaling tests: every landed protocol × every balancer that fronts it,
two replicas each, started once per module and checked to leave no process behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from protobench.protocols import PROTOCOLS, Protocol
from servers.balancers import BALANCERS
from servers.launcher import Cluster, launch
from tests.support.protocols import marker

COMBINATIONS = [
    (protocol, name)
    for protocol in PROTOCOLS
    for name, balancer in BALANCERS.items()
    if protocol in balancer.protocols
]


def combination_params(combinations: list[tuple[Protocol, str]]) -> list[object]:
    return [pytest.param((p, b), marks=marker(p), id=f"{p}-{b}") for p, b in combinations]


def process_tree(cluster: Cluster) -> list[psutil.Process]:
    """Every process the cluster runs: replicas, balancer and the balancer's workers."""
    tree = []
    for pid in cluster.pids():
        try:
            process = psutil.Process(pid)
            tree += [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    return tree


def still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    """The ones alive and not a zombie (``is_running`` also guards against pid reuse)."""
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.fixture(scope="module", params=combination_params(COMBINATIONS))
def cluster(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    protocol, balancer = request.param
    workdir = tmp_path_factory.mktemp(f"cluster-{protocol}-{balancer}")
    serve_args = ["--models-dir", str(models_dir)]
    with launch(
        protocol, replicas=2, balancer=balancer, serve_args=serve_args, workdir=workdir
    ) as running:
        yield running
        tree = process_tree(running)
    assert not still_running(tree), f"left running after stop: {still_running(tree)}"
