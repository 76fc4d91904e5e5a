"""Locust's own distributed mode for ``protobench bench``: one master and worker processes.

``bench --generator-workers N`` runs Locust as a master plus N local worker processes, all
children of one supervisor (``python -m loadtests.distributed``), so the runner sees a single
generator process tree: it measures the tree's CPU and stops it with one SIGTERM. With
``--remote-workers R`` the master also waits for R workers started elsewhere by
``protobench worker --master HOST``. Every worker's exact samples reach the master
(``loadtests.distributed_events``) and are merged into the one result.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
DEFAULT_MASTER_PORT = 5557  # Locust's
WORKERS_WAIT_S = 60  # how long the master waits for every expected worker before it gives up
# Locust's start and stop with several processes on a busy machine: seconds, not one
START_SLACK_S = WORKERS_WAIT_S + 20.0
WORKER_EXIT_GRACE_S = 10.0  # a worker ends a few seconds (its stop timeout) after the master


@dataclass(frozen=True)
class Distribution:
    """How many workers the master waits for, and where it listens for them."""

    local_workers: int
    remote_workers: int = 0
    bind_host: str = "127.0.0.1"  # 0.0.0.0 (or an interface) when remote workers join
    port: int = 0  # 0: any free port, when all workers are local

    def __post_init__(self) -> None:
        if self.local_workers < 0 or self.remote_workers < 0:
            raise ValueError("worker counts cannot be negative")
        if self.local_workers + self.remote_workers < 1:
            raise ValueError("a distributed run needs at least one worker")
        if self.remote_workers and not self.port:
            raise ValueError("remote workers need a fixed master port")


def worker_command(master_host: str, master_port: int = DEFAULT_MASTER_PORT) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
        "--master-host", master_host, "--master-port", str(master_port), "--loglevel", "WARNING",
    ]  # fmt: skip


def distributed_command(locust_command: list[str], distribution: Distribution) -> list[str]:
    """The runner's stand-alone Locust command, turned into a supervised master + workers."""
    from servers.launcher import free_port

    command = list(locust_command)
    if "--processes" in command:  # the workers replace Locust's own forked processes
        at = command.index("--processes")
        del command[at : at + 2]
    port = distribution.port or free_port(distribution.bind_host)
    expected = distribution.local_workers + distribution.remote_workers
    master = [
        *command, "--master", "--expect-workers", str(expected),
        "--expect-workers-max-wait", str(WORKERS_WAIT_S),
        "--master-bind-host", distribution.bind_host, "--master-bind-port", str(port),
    ]  # fmt: skip
    return [
        sys.executable, "-m", "loadtests.distributed",
        "--workers", str(distribution.local_workers), "--master-port", str(port), "--", *master,
    ]  # fmt: skip


def supervise(master_command: list[str], workers: int, master_port: int) -> int:
    """Start the master, then the local workers; SIGTERM/SIGINT go to the master, which stops
    the workers itself. Returns the master's exit code."""
    master = subprocess.Popen(master_command)
    crew = [subprocess.Popen(worker_command("127.0.0.1", master_port)) for _ in range(workers)]

    def forward(signum: int, _: FrameType | None) -> None:
        if master.poll() is None:
            master.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    code = master.wait()
    deadline = time.monotonic() + WORKER_EXIT_GRACE_S
    for worker in crew:  # the master told them to quit; their samples are already with it
        try:
            worker.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.distributed",
        description="Run a Locust master (the command after --) and N local workers.",
    )
    parser.add_argument("--workers", type=int, required=True, help="local worker processes")
    parser.add_argument("--master-port", type=int, required=True, help="the master's port")
    parser.add_argument("master", nargs=argparse.REMAINDER, help="-- then the master command")
    args = parser.parse_args(argv)
    master = args.master[1:] if args.master[:1] == ["--"] else args.master
    if not master:
        parser.error("give the master's command after --")
    return supervise(master, args.workers, args.master_port)


if __name__ == "__main__":
    sys.exit(main())
