"""The machine-wide CPU window and the flag it raises: a cell slowed by other work on a shared
machine says so, instead of passing for what its servers can do."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

from loadtests.cpu import CpuUsage, MachineUsage, MachineWindow
from loadtests.runner import _cpu_flags

SPIN = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass\n"


def test_the_machine_window_counts_work_of_processes_it_was_not_told_about() -> None:
    window = MachineWindow()
    spinner = subprocess.Popen([sys.executable, "-c", SPIN])
    process = psutil.Process(spinner.pid)
    spun = 0.0
    while spinner.poll() is None:
        try:
            times = process.cpu_times()
            spun = times.user + times.system
        except psutil.NoSuchProcess:
            break
        time.sleep(0.01)
    usage = window.stop()
    assert spinner.returncode == 0
    assert spun >= 0.5  # the spinner's own CPU, read just before it ended
    assert usage.busy_s >= 0.9 * spun
    assert usage.other_cpus(ours_s=0.0) * usage.wall_s >= 0.9 * spun
    assert 0.0 < usage.busy_share <= 1.0


def _cpu(generator_s: float, server_s: float, machine_busy_s: float) -> dict[str, object]:
    return {
        "server": CpuUsage(server_s, server_s / 4.0, 1),
        "balancer": CpuUsage(0.0, 0.0, 0),
        "generator": CpuUsage(generator_s, generator_s / 4.0, 1),
        "bench": CpuUsage(0.1, 0.025, 1),
        "machine": MachineUsage(busy_s=machine_busy_s, wall_s=4.0, cpus=2),
    }


def test_a_busy_machine_with_other_work_is_cpu_contended() -> None:
    assert _cpu_flags(_cpu(generator_s=1.6, server_s=3.0, machine_busy_s=7.8)) == ["cpu-contended"]


def test_a_busy_machine_busy_with_the_cell_alone_is_not() -> None:
    """Replicas and generator filling both CPUs measure the machine's capacity: no flag."""
    assert _cpu_flags(_cpu(generator_s=1.6, server_s=6.0, machine_busy_s=7.8)) == []


def test_other_work_on_an_idle_enough_machine_is_not() -> None:
    assert _cpu_flags(_cpu(generator_s=1.0, server_s=2.0, machine_busy_s=5.0)) == []
