"""Locust users for every registered protocol, all built on the shared clients.

One abstract ``ProtocolUser`` does everything; the concrete classes, one per spec in
``protobench.protocols`` (``spec.locust_user``: RestUser, GrpcUser, ...), only name their protocol.
Each user owns one client (one connection or channel) for its whole life, and sends each
distinct call prepared once (``InferenceClient.prepare``): encoded once, its answer checked
(a label in every prediction, or the error's core code) rather than validated into core types.
The generator's CPU per request must stay far below the server's (docs/loadtests.md); the
HTTP protocols' specs put geventhttpclient under their clients for it (``transport="gevent"``).

Two load models:
- closed (default): each user sends its next request as soon as the previous answer arrives;
  N users means at most N requests in flight. Server stalls slow the senders down, so they
  hide in the numbers (coordinated omission).
- open (``--pb-rate R``): the users share a fixed schedule of R requests/s. Each request has an
  *intended* send time; latency is also measured from it, as wrk2 does, so a stall shows as
  the queue that would have built up in front of a real server.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

import gevent
from locust import User, constant, events, task
from locust.env import Environment
from locust.runners import WorkerRunner

from clients import client_class
from clients.base import ClientError, InferenceClient, Prepared
from loadtests.samples import OK, Samples
from loadtests.workload import PAYLOADS, Call, Workload
from protobench.protocol_spec import load
from protobench.protocols import Protocol, spec, specs

# Each protocol's own set-up for gevent (grpcio's, before the first channel exists).
for _spec in specs():
    if _spec.locust_setup:
        load(_spec.locust_setup)()  # type: ignore[operator]

RECORDER = Samples()
# Requests are timed with perf_counter (monotonic); one offset per process turns those times into
# wall-clock ones, so the samples of several processes and the runner's window line up.
WALL_OFFSET = time.time() - time.perf_counter()
_saved: list[Path] = []


def _options(parser: Any) -> None:
    group = parser.add_argument_group("protobench")
    group.add_argument(
        "--pb-payload",
        choices=PAYLOADS,
        default="iris",
        env_var="PROTOBENCH_LT_PAYLOAD",
        help="iris (features), iris-xml (REST with XML answers), digits-image (PNG upload) "
        "or mix (with metadata)",
    )
    group.add_argument(
        "--pb-batch",
        type=int,
        default=1,
        env_var="PROTOBENCH_LT_BATCH",
        help="instances per predict call (iris payload)",
    )
    group.add_argument(
        "--pb-rate",
        type=float,
        default=0.0,
        env_var="PROTOBENCH_LT_RATE",
        help="open model: total requests/s shared by all users (0: closed model)",
    )
    group.add_argument(
        "--pb-timeout",
        type=float,
        default=30.0,
        env_var="PROTOBENCH_LT_TIMEOUT",
        help="seconds before a call counts as DEADLINE_EXCEEDED",
    )
    group.add_argument("--pb-samples-dir", default="", env_var="PROTOBENCH_LT_SAMPLES_DIR",
                       help="write exact per-request samples here when the test stops")  # fmt: skip


def _save_samples(environment: Environment) -> None:
    folder = getattr(environment.parsed_options, "pb_samples_dir", "")
    if folder and not _saved:
        path = RECORDER.save(Path(folder))
        if path is not None:
            _saved.append(path)


def _on_test_stop(environment: Environment, **_: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner):  # a worker sends them to its master
        _save_samples(environment)


# Registered by call, not decorator: Locust's hooks are untyped and would erase these types.
events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_on_test_stop)  # type: ignore[no-untyped-call]


def _make_client(
    protocol: Protocol, target: str, timeout: float, workload: Workload
) -> InferenceClient:
    """A client with the spec's and the workload's options under load, sending the server's
    API key when PROTOBENCH_API_KEY is set."""
    cls = client_class(protocol)
    api_key = os.environ.get("PROTOBENCH_API_KEY") or None
    options = {**spec(protocol).load_client_options, **workload.client_options}
    return cls(target, timeout=timeout, api_key=api_key, **options)  # type: ignore[call-arg]


class ProtocolUser(User):
    abstract = True
    protocol: Protocol
    wait_time = constant(0)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        assert options is not None and self.host, "start Locust with --host HOST:PORT"
        self.workload = Workload(options.pb_payload, options.pb_batch)
        self.client: InferenceClient = _make_client(
            self.protocol, self.host, options.pb_timeout, self.workload
        )
        self.prepared: dict[str, Prepared] = {}  # each distinct call, encoded once
        self.rng = random.Random()
        rate = float(options.pb_rate)
        users = max(1, int(options.num_users or 1))
        self.interval = users / rate if rate > 0 else 0.0
        # Spread the users' schedules evenly over one interval instead of sending in bursts.
        self.next_intended = time.perf_counter() + self.rng.random() * self.interval

    def on_stop(self) -> None:
        self.client.close()

    def _prepared(self, call: Call) -> Prepared:
        send = self.prepared.get(call.name)
        if send is None:
            send = self.prepared[call.name] = call.prepare(self.client)
        return send

    @task
    def call(self) -> None:
        call = self.workload.next_call(self.rng)
        send = self._prepared(call)
        if self.interval:
            intended = self.next_intended
            self.next_intended += self.interval
            delay = intended - time.perf_counter()
            if delay > 0:
                gevent.sleep(delay)
        sent = time.perf_counter()
        if not self.interval:
            intended = sent
        error: ClientError | None = None
        try:
            send()
        except ClientError as exc:
            error = exc
        done = time.perf_counter()
        RECORDER.add(intended + WALL_OFFSET, sent + WALL_OFFSET, done + WALL_OFFSET,
                     call.predictions, error.code.value if error else OK)  # fmt: skip
        self.environment.events.request.fire(
            request_type=self.protocol,
            name=call.name,
            response_time=(done - sent) * 1000.0,
            response_length=0,
            exception=error,
            context={},
        )


def user_classes() -> dict[str, type[ProtocolUser]]:
    """One concrete user per registered protocol, by its class name."""
    return {
        s.locust_user: type(s.locust_user, (ProtocolUser,), {"protocol": s.name}) for s in specs()
    }
