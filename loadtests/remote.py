"""``bench --target``: drive servers that bench did not start (another machine, a cluster).

Nothing is launched. The replicas' CPU is unknown unless ``--metrics-url`` names their metrics
endpoints: then the runner reads ``process_cpu_seconds_total`` from each at the edges of the
measured window, and the predict counters for progress and per-replica shares. Without them
the generator's own request count (written by the Locust master) is the progress signal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from loadtests.cpu import CpuUsage
from protobench.protocols import Protocol
from servers.metrics import scrape

UNKNOWN_CPU_FLAG = "server-cpu-unknown"
REMOTE_WORKERS_FLAG = "generator-cpu-this-machine-only"


@dataclass(frozen=True)
class RemoteTargets:
    """What ``--target`` and ``--metrics-url`` said."""

    targets: tuple[str, ...]
    metrics_urls: tuple[str, ...] = ()

    def locust_host(self, protocol: Protocol) -> str:
        """One address as given; several only for gRPC, balanced by the client per call."""
        if len(self.targets) == 1:
            return self.targets[0]
        if protocol != "grpc":
            raise ValueError(
                f"{protocol}: give one --target (a balancer's address); several addresses are "
                "balanced by the client only for grpc"
            )
        return "ipv4:" + ",".join(self.targets)


def parse_targets(text: str) -> tuple[str, ...]:
    """``HOST:PORT[,HOST:PORT]`` -> the addresses; ValueError says what is wrong."""
    targets = tuple(t.strip() for t in text.split(",") if t.strip())
    for target in targets:
        host, _, port = target.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{target!r} is not HOST:PORT")
    if not targets:
        raise ValueError("no address given")
    return targets


class ScrapedCpuWindow:
    """Server CPU over the window from the replicas' ``process_cpu_seconds_total``; ``known``
    stays False when any replica does not publish it, does not answer, or restarted during the
    window (its counter went back), or when no metrics URL was given."""

    def __init__(self, urls: tuple[str, ...]) -> None:
        self.urls = urls
        self.known = bool(urls)
        self._before: list[float | None] = []
        self._started = 0.0

    def _read(self) -> list[float | None]:
        values: list[float | None] = []
        for url in self.urls:
            try:
                values.append(scrape(url).cpu_seconds)
            except (httpx.HTTPError, ValueError):  # no answer, or not a Prometheus page
                values.append(None)
        return values

    def start(self) -> None:
        self._before = self._read()
        self._started = time.monotonic()

    def stop(self) -> CpuUsage:
        wall = max(time.monotonic() - self._started, 1e-9)
        after = self._read()
        pairs = list(zip(self._before, after, strict=True))
        if any(a is None or b is None or b < a for a, b in pairs):
            self.known = False
        used = [b - a for a, b in pairs if a is not None and b is not None]
        return CpuUsage(sum(used), max(used, default=0.0) / wall, len(used))


class ExternalTargets:
    """Stands where the launcher's ``Cluster`` does, for servers bench did not start."""

    balancer = "external"
    balancer_pid: int | None = None
    cpu_quota: dict[str, object] | None = None  # not ours to set

    def __init__(self, protocol: Protocol, remote: RemoteTargets, progress_file: Path) -> None:
        self.protocol = protocol
        self.remote = remote
        self.target = remote.locust_host(protocol)
        self.replicas: list[Any] = []  # none of ours: no pid to pin, pause or measure
        self.progress_file = progress_file
        self.cpu = ScrapedCpuWindow(remote.metrics_urls)

    def wire_target(self) -> tuple[str, int]:
        host, _, port = self.remote.targets[0].rpartition(":")
        return host.strip("[]"), int(port)

    def request_counts(self) -> dict[str, int]:
        """Predict calls per replica from its metrics; without metrics, the requests the
        generator has sent so far, under the name ``generator``."""
        if not self.remote.metrics_urls:
            try:
                return {"generator": int(self.progress_file.read_text() or 0)}
            except (OSError, ValueError):
                return {"generator": 0}
        counts = {}
        for url in self.remote.metrics_urls:
            try:
                counts[url] = scrape(url).predictions
            except (httpx.HTTPError, ValueError):
                counts[url] = 0
        return counts

    def annotate(self, result: dict[str, Any]) -> None:
        """Say in the cell's result that the servers were external, and blank what is
        unknown rather than print a zero."""
        result["servers"] = {
            "external": True,
            "targets": list(self.remote.targets),
            "metrics_urls": list(self.remote.metrics_urls),
        }
        if not self.cpu.known:
            result["cpu"].update(
                server_s=None, server_us_per_request=None, generator_to_server=None
            )
            result["flags"].append(UNKNOWN_CPU_FLAG)
        if not self.remote.metrics_urls:
            result["replica_requests"], result["replica_shares"] = {}, {}


def annotate(result: dict[str, Any], cluster: Any, remote_workers: int) -> dict[str, Any]:
    """The cell's result, with what an external server or a remote worker leaves unknown."""
    if isinstance(cluster, ExternalTargets):
        cluster.annotate(result)
    if remote_workers:  # their CPU is spent on other machines
        result["flags"].append(REMOTE_WORKERS_FLAG)
    return result
