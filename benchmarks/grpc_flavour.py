"""Which grpcio flavour serves protobench faster: the sync thread pool or ``grpc.aio``.

Runs both side by side, in one go, on the same core service and the same model:

  sync      the gRPC adapter as shipped (servers/grpc_server.py: grpcio's thread pool,
            ``settings.grpc_workers`` = 16 threads, calling ``service.predict``)
  sync-64   the same with 64 threads (as many as calls in flight)
  aio       the same Predict RPC on a ``grpc.aio`` server awaiting ``service.apredict``

Each server is its own process; the load is ``h2load`` (nghttp2's HTTP/2 load generator, in C)
sending one prerecorded gRPC Predict message (one iris instance) over and over, a closed loop of
``--connections`` x ``--streams`` calls in flight. Three scenarios: the server pinned to CPU 0
with h2load on CPU 1, both unpinned, and pinned with a 20 ms model delay (where the pool's
thread count, not the CPU, is the limit).

    flock /tmp/protobench-bench.lock .venv/bin/python benchmarks/grpc_flavour.py

Needs ``h2load`` (``apt-get install nghttp2-client``). Takes about a minute. Numbers go to
docs/grpc.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import psutil

from clients.grpc_client import GrpcClient
from protobench.core.errors import CoreError
from protobench.core.registry import ModelRegistry
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.proto_convert import (
    instances_from_pb,
    predict_request_to_pb,
    predict_response_to_pb,
    version_from_pb,
)
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import inference_pb2_grpc as pb_grpc
from servers.grpc_server import address, build_server, server_options
from servers.grpc_servicer import status_of
from servers.listen import Listen

FLAVOURS = ("sync", "sync-64", "aio")
WORKERS = {"sync": 16, "sync-64": 64}
PREDICT_PATH = "/protobench.v1.InferenceService/Predict"
SETOSA = [5.1, 3.5, 1.4, 0.2]


@dataclass(frozen=True)
class Scenario:
    name: str
    pinned: bool
    delay_ms: float


SCENARIOS = (
    Scenario("pinned", pinned=True, delay_ms=0.0),
    Scenario("unpinned", pinned=False, delay_ms=0.0),
    Scenario("pinned, 20 ms model delay", pinned=True, delay_ms=20.0),
)


# -- the servers (run as child processes of this script) --------------------------------------


class AioPredict(pb_grpc.InferenceServiceServicer):
    """Predict on grpc.aio, decoding and encoding exactly as the adapter does."""

    def __init__(self, service: InferenceService) -> None:
        self._service = service

    async def Predict(
        self, request: pb.PredictRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.PredictResponse:
        try:
            response = await self._service.apredict(
                request.model, instances_from_pb(request), version_from_pb(request)
            )
        except CoreError as exc:
            await context.abort(status_of(exc.code), exc.message)
        return predict_response_to_pb(response)


async def _serve_aio(service: InferenceService, port_file: Path) -> None:
    listen = Listen("127.0.0.1", 0)
    server = grpc.aio.server(options=server_options(service, listen))
    pb_grpc.add_InferenceServiceServicer_to_server(AioPredict(service), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port(address(listen))
    await server.start()
    port_file.write_text(str(port))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(1)


def _serve_sync(service: InferenceService, port_file: Path) -> None:
    server, _, port = build_server(service, Listen("127.0.0.1", 0))
    server.start()
    port_file.write_text(str(port))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop(1).wait()


def run_server(flavour: str, models_dir: Path, delay_ms: float, port_file: Path) -> None:
    settings = Settings(
        models_dir=models_dir,
        model_delay_ms=delay_ms,
        replica_name="bench",
        grpc_workers=WORKERS.get(flavour, 1),
    )
    service = InferenceService(settings)
    service.load()
    if flavour == "aio":
        asyncio.run(_serve_aio(service, port_file))
    else:
        _serve_sync(service, port_file)


# -- the measurement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    flavour: str
    scenario: str
    requests_per_s: float
    mean_ms: float
    failed: int
    server_cpu_percent: float


def _taskset(cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []


@contextmanager
def _server(
    flavour: str, models_dir: Path, delay_ms: float, cpu: int | None, workdir: Path
) -> Iterator[tuple[int, psutil.Process]]:
    port_file = workdir / f"{flavour}.port"
    port_file.unlink(missing_ok=True)
    command = [
        *_taskset(cpu), sys.executable, __file__, "--serve", flavour,
        "--models-dir", str(models_dir), "--delay-ms", str(delay_ms),
        "--port-file", str(port_file),
    ]  # fmt: skip
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {flavour} server did not start")
            time.sleep(0.05)
        port = int(port_file.read_text())
        with GrpcClient(f"127.0.0.1:{port}") as client:  # one real call checks the answer
            assert client.predict("iris", [SETOSA]).predictions[0].label == "setosa"
        yield port, psutil.Process(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _grpc_frame(message: bytes) -> bytes:
    """gRPC's length-prefixed message: uncompressed flag, 4-byte big-endian length, bytes."""
    return struct.pack(">BI", 0, len(message)) + message


def _h2load(
    port: int, body: Path, args: argparse.Namespace, cpu: int | None
) -> tuple[float, float, int]:
    command = [
        *_taskset(cpu), "h2load", "--threads=1",
        f"--clients={args.connections}", f"--max-concurrent-streams={args.streams}",
        f"--duration={args.duration}", "--warm-up-time=1", f"--data={body}",
        "--header=content-type: application/grpc", "--header=te: trailers",
        f"http://127.0.0.1:{port}{PREDICT_PATH}",
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", output)
    mean = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", output)
    failed = re.search(r"(\d+) failed", output)
    if not (rate and mean and failed):
        raise RuntimeError(f"cannot read h2load's output:\n{output}")
    return float(rate.group(1)), _milliseconds(mean.group(1)), int(failed.group(1))


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure(args: argparse.Namespace, models_dir: Path, workdir: Path) -> list[Result]:
    body = workdir / "predict.grpc"
    body.write_bytes(_grpc_frame(predict_request_to_pb("iris", [SETOSA]).SerializeToString()))
    two_cpus = (os.cpu_count() or 1) >= 2
    results = []
    for scenario in SCENARIOS:
        server_cpu, load_cpu = (0, 1) if scenario.pinned and two_cpus else (None, None)
        for flavour in FLAVOURS:
            with _server(flavour, models_dir, scenario.delay_ms, server_cpu, workdir) as (
                port,
                process,
            ):
                before = process.cpu_times()
                started = time.monotonic()
                rate, mean_ms, failed = _h2load(port, body, args, load_cpu)
                elapsed = time.monotonic() - started
                after = process.cpu_times()
            busy = (after.user + after.system) - (before.user + before.system)
            results.append(
                Result(flavour, scenario.name, rate, mean_ms, failed, 100 * busy / elapsed)
            )
            print(f"  {flavour:>7} · {scenario.name}: {rate:,.0f} req/s", file=sys.stderr)
    return results


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    print(
        f"\n{args.connections} connections x {args.streams} streams in flight, "
        f"{args.duration}s per run after 1s warm-up, one iris instance per Predict\n"
    )
    print("| scenario | flavour | req/s | mean latency | failed | server CPU |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.scenario} | {r.flavour} | {r.requests_per_s:,.0f} | {r.mean_ms:.2f} ms "
            f"| {r.failed} | {r.server_cpu_percent:.0f} % |"
        )
    by_key = {(r.scenario, r.flavour): r.requests_per_s for r in results}
    print()
    for scenario in SCENARIOS:
        aio = by_key[(scenario.name, "aio")]
        ratios = ", ".join(
            f"{flavour} / aio = {by_key[(scenario.name, flavour)] / aio:.2f}"
            for flavour in FLAVOURS
            if flavour != "aio"
        )
        print(f"{scenario.name}: {ratios}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds measured per run (5)")
    parser.add_argument("--connections", type=int, default=4, help="HTTP/2 connections (4)")
    parser.add_argument("--streams", type=int, default=16, help="calls in flight per connection")
    parser.add_argument("--models-dir", type=Path, help="trained models (default: a temp dir)")
    parser.add_argument("--serve", choices=FLAVOURS, help=argparse.SUPPRESS)
    parser.add_argument("--delay-ms", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_server(args.serve, args.models_dir, args.delay_ms, args.port_file)
        return 0
    if shutil.which("h2load") is None:
        print("h2load not found: apt-get install nghttp2-client", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="grpc-flavour-") as tmp:
        workdir = Path(tmp)
        models_dir = args.models_dir or workdir / "models"
        ModelRegistry(models_dir).load()  # train once, before any server starts
        print_table(measure(args, models_dir, workdir), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
