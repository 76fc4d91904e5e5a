"""CPU seconds used by sets of processes, and by the whole machine, over a measured window
(psutil)."""

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
    """Snapshot at ``start()``, again at ``stop()``; children found at start are included
    unless ``children`` is false."""

    def __init__(self, root_pids: Iterable[int], *, children: bool = True) -> None:
        self._roots = list(root_pids)
        self._children = children
        self._before: dict[int, float] = {}
        self._started = 0.0

    def _processes(self) -> list[psutil.Process]:
        if not self._children:
            return [p for pid in self._roots for p in _tree(pid)[:1]]
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


@dataclass(frozen=True)
class MachineUsage:
    busy_s: float  # CPU seconds every process on the machine used in the window, ours or not
    wall_s: float
    cpus: int

    @property
    def busy_share(self) -> float:
        """How busy the machine's CPUs were, 0..1."""
        return self.busy_s / self.wall_s / max(self.cpus, 1)

    def other_cpus(self, ours_s: float) -> float:
        """CPUs that work other than the cell's own processes kept busy, on average."""
        return max(self.busy_s - ours_s, 0.0) / self.wall_s


class MachineWindow:
    """The whole machine's busy CPU time over the window: what tells a cell slowed by other
    work on a shared machine (or stolen by the hypervisor) from one that measured its servers."""

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        self._before = psutil.cpu_times()
        self._started = time.monotonic()

    def stop(self) -> MachineUsage:
        wall = max(time.monotonic() - self._started, 1e-9)
        after = psutil.cpu_times()
        # guest time is counted in user time already on Linux; steal counts as busy: the
        # hypervisor gave that CPU to someone else
        total = (sum(after) - _guest(after)) - (sum(self._before) - _guest(self._before))
        idle = _idle(after) - _idle(self._before)
        cpus = psutil.cpu_count() or 1
        # the kernel counts in 10 ms ticks: clamp to what the window's CPUs could have done
        busy = min(max(total - idle, 0.0), wall * cpus)
        return MachineUsage(busy_s=busy, wall_s=wall, cpus=cpus)


def _idle(times: object) -> float:
    return float(getattr(times, "idle", 0.0)) + float(getattr(times, "iowait", 0.0))


def _guest(times: object) -> float:
    return float(getattr(times, "guest", 0.0)) + float(getattr(times, "guest_nice", 0.0))
