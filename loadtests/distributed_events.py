"""Locust hooks for distributed runs (master + workers, on one machine or several).

- Each worker sends its exact samples to the master when the test stops, over Locust's own
  master/worker channel (a custom message), so a worker on another machine needs no shared
  folder; the master writes one samples file per worker, which the runner merges as usual.
- When the master quits (SIGTERM from the runner, or its run-time limit), it first stops the
  test on every worker and waits for their reports, so no worker's samples are lost.
- With ``PROTOBENCH_LT_PROGRESS_FILE`` set, the master (or a lone Locust) writes the number of
  requests sent so far to that file a few times a second: the runner's progress and start
  signal when the servers' own counters cannot be read (``bench --target`` without metrics).
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import gevent
import locust.runners
from locust import events
from locust.env import Environment
from locust.rpc import Message
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

from loadtests.samples import Samples

SAMPLES_MESSAGE = "protobench_samples"
# A worker missing 3 heartbeats (1 s apart) is dropped, and the test stops with the last one.
# A busy 2-core machine (server, generator and more sharing it) can stall a worker that long,
# so the master waits 10 before giving a worker up.
locust.runners.HEARTBEAT_LIVENESS = 10
PROGRESS_INTERVAL_S = 0.2
_shipped: list[bool] = []


def _samples_dir(environment: Environment) -> Path | None:
    folder = getattr(environment.parsed_options, "pb_samples_dir", "")
    return Path(folder) if folder else None


def _ship_samples(environment: Environment, **_: Any) -> None:
    """Worker side, at test stop: send every sample recorded here to the master, once."""
    from loadtests.users import RECORDER

    runner = environment.runner
    if not isinstance(runner, WorkerRunner) or _shipped:
        return
    _shipped.append(True)
    runner.send_message(SAMPLES_MESSAGE, asdict(RECORDER))
    for name in (f.name for f in fields(Samples)):
        getattr(RECORDER, name).clear()


def _store_samples(environment: Environment, msg: Any, **_: Any) -> None:
    """Master side: one samples file per worker, named after the worker."""
    folder = _samples_dir(environment)
    if folder is not None:
        tag = re.sub(r"[^A-Za-z0-9_.-]", "_", str(msg.node_id))
        Samples(**msg.data).save(folder, tag=tag)


def _stop_workers_before_quitting(runner: MasterRunner) -> None:
    """Master side: Locust's ``quit`` (on SIGTERM and at the run-time limit) only tells the
    workers to quit; stop the test properly first, so each sends its samples and the master
    waits for them. A worker that reported "stopped" is no longer on the master's list, so
    Locust's own quit would not reach it: it is told here."""
    quit_now = runner.quit

    def quit() -> None:
        workers = [client.id for client in runner.clients.all]
        if runner.state in (STATE_RUNNING, STATE_SPAWNING):
            runner.stop()
        for worker in workers:
            if worker not in runner.clients:
                runner.server.send_to_client(Message("quit", None, worker))  # type: ignore[no-untyped-call]
        quit_now()

    runner.quit = quit  # type: ignore[method-assign]


def _report_progress(environment: Environment, path: Path) -> None:
    partial = path.with_suffix(".tmp")
    while True:
        runner = environment.runner
        if runner is not None:
            partial.write_text(str(runner.stats.total.num_requests))
            partial.replace(path)
        gevent.sleep(PROGRESS_INTERVAL_S)


def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        environment.events.test_stop.add_listener(_ship_samples)  # type: ignore[no-untyped-call]
        return
    if isinstance(runner, MasterRunner):
        runner.register_message(SAMPLES_MESSAGE, _store_samples)
        _stop_workers_before_quitting(runner)
    if progress := os.environ.get("PROTOBENCH_LT_PROGRESS_FILE"):
        gevent.spawn(_report_progress, environment, Path(progress))


# Registered by call, not decorator: Locust's hooks are untyped and would erase these types.
events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
