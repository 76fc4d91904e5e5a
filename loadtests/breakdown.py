"""Where one predict's CPU microseconds go, per protocol, on the server and on the client.

Measured, not estimated, in two kinds of runs:

- Against a real server over loopback, one call at a time: the server's CPU per call (its
  process's CPU time) and the client's (this process's), for a one-row iris predict and for
  the cheapest call the server has, ``health``: the *floor*, what the framework, transport and
  codec cost before any work (the same stack, the same connection, nothing to compute).
- In this process, on the same model: the model alone, the core around it (routing, strategy,
  counters, validation, the prediction id), the server's encoding of the answer and the
  client's encoding of the request and decoding of the answer, each timed on its own through
  the protocol's codec (``ProtocolSpec.codec``: the shipped adapter's and client's own code).

The server's CPU is its processes' (every replica's and a balancer's): for MQTT with its
embedded broker that is the broker's work too, so its floor is a health request and answer
each routed through the broker, not a bare transport.

Server: floor + decode/validate + core + model + encode = the predict's CPU, where
decode/validate is what is left (for GraphQL it includes parsing, validating and executing the
query). Client: floor + encode + decode + the rest of the call. Numbers are the minimum over
several rounds, so other processes on a shared machine inflate them as little as possible.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from clients.base import InferenceClient
from protobench.codec import MODEL, ROW, Codec
from protobench.core.service import InferenceService
from protobench.protocol_spec import load
from protobench.protocols import spec

SERVER_STAGES = ("floor", "decode", "core", "model", "encode")
CLIENT_STAGES = ("floor", "encode", "decode", "other")


class NoCodecError(LookupError):
    """The protocol's spec names no codec (``ProtocolSpec.codec``)."""


def has_codec(protocol: str) -> bool:
    """Whether the in-process stages of ``protocol`` can be timed: its spec names a codec (a
    protocol added through PROTOBENCH_PROTOCOL_SPECS may not)."""
    return spec(protocol).codec is not None


@functools.cache
def codec(protocol: str) -> Codec:
    """The protocol's codec, built once (some read a WSDL or a schema to build)."""
    reference = spec(protocol).codec
    if reference is None:
        raise NoCodecError(
            f"{protocol}: its spec names no codec (ProtocolSpec.codec), so where its CPU goes "
            "cannot be broken down; docs/adding-a-protocol.md says how to write one"
        )
    build = load(reference)
    assert callable(build)
    made = build()
    if not isinstance(made, Codec):
        raise TypeError(f"{reference} must return a protobench.codec.Codec, not {made!r}")
    return made


def cpu_us(call: Callable[[], object], calls: int = 400, rounds: int = 5) -> float:
    """This thread's CPU microseconds per call, the least of ``rounds``."""
    for _ in range(calls // 4):
        call()
    best = float("inf")
    for _ in range(rounds):
        started = time.thread_time()
        for _ in range(calls):
            call()
        best = min(best, (time.thread_time() - started) / calls * 1e6)
    return best


def in_process(service: InferenceService, protocol: str) -> dict[str, float]:
    """The stages timed in this process: model, core, server encode, client encode/decode."""
    rows = [ROW]
    served = service.registry.get(MODEL)
    x = np.asarray(rows, dtype=np.float64)
    model = cpu_us(lambda: service._scored(served, x, True))
    sides = codec(protocol)
    core: Callable[[], Any] = (
        (lambda: service.predict(MODEL, rows, plain=True))
        if sides.plain
        else (lambda: service.predict(MODEL, rows))
    )
    predict = cpu_us(core)
    answer = core()
    wire = sides.server_encode(answer)
    return {
        "model": model,
        "core": max(predict - model, 0.0),
        "encode": cpu_us(lambda: sides.server_encode(answer)),
        "client_encode": cpu_us(lambda: sides.client_encode(rows)),
        "client_decode": cpu_us(lambda: sides.client_decode(wire)),
    }


def process_cpu_s(pid: int) -> float:
    """A process's CPU seconds, to the nanosecond where Linux's schedstat says it (the clock
    ticks of ``cpu_times`` are 10 ms: too coarse for a few hundred calls)."""
    tasks = Path(f"/proc/{pid}/task")
    if tasks.is_dir():
        total_ns = 0
        for task in tasks.iterdir():
            try:
                total_ns += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue  # a thread that ended meanwhile
        if total_ns:
            return total_ns / 1e9
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def over_the_wire(
    client: InferenceClient,
    server_pids: Sequence[int],
    calls: int,
    rounds: int = 3,
    floor: Callable[[], object] | None = None,
) -> dict[str, float]:
    """Server and client CPU µs per call, least of ``rounds``, for a predict and for the
    floor call (``client.health`` unless given)."""

    def server_cpu() -> float:
        return sum(process_cpu_s(pid) for pid in server_pids)

    def per_call(call: Callable[[], object]) -> tuple[float, float]:
        for _ in range(calls // 5):
            call()
        best_server = best_client = float("inf")
        for _ in range(rounds):
            server_before, client_before = server_cpu(), time.process_time()
            for _ in range(calls):
                call()
            best_server = min(best_server, (server_cpu() - server_before) / calls * 1e6)
            best_client = min(best_client, (time.process_time() - client_before) / calls * 1e6)
        return best_server, best_client

    server_predict, client_predict = per_call(lambda: client.predict(MODEL, [ROW]))
    server_floor, client_floor = per_call(floor or client.health)
    return {
        "server_predict": server_predict,
        "server_floor": server_floor,
        "client_predict": client_predict,
        "client_floor": client_floor,
    }


def breakdown(
    protocol: str,
    client: InferenceClient,
    server_pids: Sequence[int],
    service: InferenceService,
    calls: int = 200,
) -> dict[str, dict[str, float]]:
    """``{"server": {stage: µs, ..., "total": µs}, "client": {...}}`` for one protocol;
    ``NoCodecError`` at once when its spec names no codec."""
    sides = codec(protocol)
    floor = functools.partial(sides.floor, client) if sides.floor is not None else None
    wire = over_the_wire(client, server_pids, calls, floor=floor)
    local = in_process(service, protocol)
    server = {
        "floor": wire["server_floor"],
        "core": local["core"],
        "model": local["model"],
        "encode": local["encode"],
    }
    server["decode"] = max(wire["server_predict"] - sum(server.values()), 0.0)
    client_side = {
        "floor": wire["client_floor"],
        "encode": local["client_encode"],
        "decode": local["client_decode"],
    }
    client_side["other"] = max(wire["client_predict"] - sum(client_side.values()), 0.0)
    return {
        "server": {**{s: server[s] for s in SERVER_STAGES}, "total": wire["server_predict"]},
        "client": {
            **{s: client_side[s] for s in CLIENT_STAGES},
            "total": wire["client_predict"],
        },
    }


def store(results_json: Path, protocols: dict[str, dict[str, dict[str, float]]]) -> None:
    """Add a breakdown to a run's results.json, where the report reads it."""
    document = json.loads(results_json.read_text())
    document["breakdown"] = {"unit": "CPU µs per call, one call at a time", "protocols": protocols}
    results_json.write_text(json.dumps(document, indent=2))


def table(protocols: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """The breakdown as Markdown rows: one per protocol and side."""
    lines = [
        "| protocol | side | floor | decode + validate | core | model | encode | other | total |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for protocol, sides in protocols.items():
        for side, stages in sides.items():
            cells = [
                f"{stages[s]:.0f}" if s in stages else "–"
                for s in ("floor", "decode", "core", "model", "encode", "other")
            ]
            lines.append(f"| {protocol} | {side} | {' | '.join(cells)} | {stages['total']:.0f} |")
    return lines
