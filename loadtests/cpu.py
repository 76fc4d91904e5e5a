"""CPU seconds used by sets of processes over a measured window (psutil)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import psutil


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _cpu_seconds(processes: Iterable[psutil.Process]) -> dict[int, float]:
    seconds: dict[int, float] = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


@dataclass(frozen=True)
class CpuUsage:
    total_s: float  # CPU seconds of all processes in the window
    busiest_share: float  # the busiest single process: CPU seconds / wall seconds (0..1)
    processes: int


class CpuWindow:
    """Snapshot at ``start()``, again at ``stop()``; children found at start are included."""

    def __init__(self, root_pids: Iterable[int]) -> None:
        self._roots = list(root_pids)
        self._before: dict[int, float] = {}
        self._started = 0.0

    def _processes(self) -> list[psutil.Process]:
        return [p for pid in self._roots for p in _tree(pid)]

    def start(self) -> None:
        self._before = _cpu_seconds(self._processes())
        self._started = time.monotonic()

    def stop(self) -> CpuUsage:
        wall = max(time.monotonic() - self._started, 1e-9)
        after = _cpu_seconds(self._processes())
        used = {pid: after[pid] - self._before.get(pid, 0.0) for pid in after}
        return CpuUsage(
            total_s=sum(used.values()),
            busiest_share=max(used.values(), default=0.0) / wall,
            processes=len(used),
        )
