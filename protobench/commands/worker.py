"""``protobench worker``: a Locust worker that joins a ``bench`` master on another machine."""

from __future__ import annotations

import argparse
import subprocess
import time
from typing import Any

from loadtests.distributed import DEFAULT_MASTER_PORT, worker_command

RECONNECT_PAUSE_S = 1.0


def register(commands: Any) -> None:
    worker = commands.add_parser(
        "worker",
        help="join a bench run on another machine as a Locust worker",
        description="Run protobench's Locust users as a worker of the master that "
        "`protobench bench --remote-workers N --master-bind 0.0.0.0` starts for each cell. "
        "The master says what to send and where; the worker sends its exact samples back to "
        "it when the cell ends. Each cell has a new master, so the worker joins again after "
        "each one, until Ctrl-C (or after one cell with --once). See docs/deploy.md.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    worker.add_argument("--master", required=True, help="host name or address of the master")
    worker.add_argument(
        "--master-port", type=int, default=DEFAULT_MASTER_PORT, help="the master's port"
    )
    worker.add_argument("--once", action="store_true", help="leave after one cell")
    worker.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    command = worker_command(args.master, args.master_port)
    while True:
        code = subprocess.run(command, check=False).returncode
        if args.once:
            return code
        time.sleep(RECONNECT_PAUSE_S)
