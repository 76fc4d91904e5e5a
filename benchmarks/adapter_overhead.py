"""Each shipped adapter against a bare app on the same framework: is the comparison fair?

Per protocol, two real servers on loopback, each its own process pinned to CPU 0, doing the
same numpy predict on the same iris model and answering the same message shape:

  rest      ours: servers/rest_server.py        bare: FastAPI, a pydantic body, uvloop+httptools
  grpc      ours: servers/grpc_server.py        bare: a grpcio sync server, 64 threads
  graphql   ours: servers/graphql_server.py     bare: strawberry with ParserCache+ValidationCache
  jsonrpc   ours: servers/jsonrpc_server.py     bare: jsonrpcserver async_dispatch, one Starlette
                                                route

The native driver runs on CPU 1: ``wrk -t1 -c64`` (HTTP/1.1) or ``h2load -c64 -m1`` (gRPC).
The two variants alternate A B A B (``--rounds`` of ``--seconds`` each, after a warm-up);
the table prints each variant's median req/s, the median of the per-round ratios and the
server's CPU microseconds per request (from its process CPU time over the run).

    flock /tmp/protobench-bench.lock .venv/bin/python benchmarks/adapter_overhead.py

Needs ``wrk`` and ``h2load`` (``apt-get install wrk nghttp2-client``); about 4 minutes with the
defaults. Numbers go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import numpy as np
import psutil
import strawberry
import uvicorn
from fastapi import FastAPI
from jsonrpcserver import Result, Success, async_dispatch
from pydantic import BaseModel, StrictFloat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from clients import connect
from clients.graphql_operations import PREDICT
from loadtests.breakdown import breakdown, has_codec
from loadtests.breakdown import table as breakdown_table
from protobench.core.models import ServedModel
from protobench.core.registry import ModelRegistry
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.protocols import PROTOCOLS
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import inference_pb2_grpc as pb_grpc
from servers import load_serve
from servers.launcher import launch
from servers.listen import Listen, bind_socket

ROW = [5.1, 3.5, 1.4, 0.2]
MODEL = "iris"
VARIANTS = ("ours", "bare")
CONNECTIONS = 64
GRPC_PATH = "/protobench.v1.InferenceService/Predict"
BARE_PROTOCOLS = ("rest", "grpc", "graphql", "jsonrpc")
HTTP_PATHS = {"rest": f"/models/{MODEL}/predict", "graphql": "/graphql", "jsonrpc": "/jsonrpc"}


# -- the same numpy predict for every bare app ------------------------------------------------


class BarePredictor:
    """The iris model as the core stores it, answered with plain numpy: no core at all."""

    def __init__(self, settings: Settings) -> None:
        registry = ModelRegistry(settings.models_dir)
        registry.load()
        self.served: ServedModel = registry.get(MODEL)
        self.served_by = settings.replica_name

    def answer(self, instances: Any) -> dict[str, Any]:
        """The fields of a PredictResponse, as plain values."""
        card = self.served.card
        proba = self.served.network.predict_proba(np.asarray(instances, dtype=np.float64))
        best = proba.argmax(axis=1).tolist()
        return {
            "model": card.name,
            "version": card.version,
            "served_by": self.served_by,
            "predictions": [
                {"label": card.labels[i], "probabilities": row}
                for i, row in zip(best, proba.tolist(), strict=True)
            ],
            "prediction_id": uuid.uuid4().hex,
            "arm": "single",
        }


# -- the bare apps ----------------------------------------------------------------------------


class PredictBody(BaseModel):
    instances: list[list[StrictFloat]]
    version: str | None = None
    caller: str | None = None


def bare_rest(predictor: BarePredictor) -> Any:
    app = FastAPI()

    @app.post("/models/{name}/predict")
    async def predict(name: str, body: PredictBody) -> dict[str, Any]:
        return predictor.answer(body.instances)

    return app


@strawberry.type(name="Prediction")
class BarePrediction:
    label: str
    probabilities: list[float]


@strawberry.type(name="PredictResponse")
class BarePredictResponse:
    model: str
    version: str
    served_by: str
    predictions: list[BarePrediction]
    prediction_id: str
    arm: str


def bare_graphql(predictor: BarePredictor) -> Any:
    @strawberry.type
    class Query:
        @strawberry.field
        async def predict(
            self,
            model: str,
            instances: list[list[float]],
            version: str | None = None,
            caller: str | None = None,
        ) -> BarePredictResponse:
            fields = predictor.answer(instances)
            predictions = [BarePrediction(**p) for p in fields.pop("predictions")]
            return BarePredictResponse(predictions=predictions, **fields)

    schema = strawberry.Schema(query=Query, extensions=[ParserCache, ValidationCache])
    return GraphQL(schema, graphql_ide=None)


def bare_jsonrpc(predictor: BarePredictor) -> Any:
    async def predict(
        model: str, instances: list[list[float]], version: str | None = None
    ) -> Result:
        return Success(predictor.answer(instances))

    methods = {"predict": predict}

    async def endpoint(request: Request) -> Response:
        answer = await async_dispatch((await request.body()).decode(), methods=methods)
        return Response(answer, 200 if answer else 204, media_type="application/json")

    return Starlette(routes=[Route("/jsonrpc", endpoint, methods=["POST"])])


class BareServicer(pb_grpc.InferenceServiceServicer):
    def __init__(self, predictor: BarePredictor) -> None:
        self.predictor = predictor

    def Predict(self, request: pb.PredictRequest, context: grpc.ServicerContext) -> Any:
        fields = self.predictor.answer([list(i.features) for i in request.instances])
        predictions = [pb.Prediction(**p) for p in fields.pop("predictions")]
        return pb.PredictResponse(predictions=predictions, **fields)


def serve_bare(protocol: str, listen: Listen) -> None:
    predictor = BarePredictor(Settings())
    if protocol == "grpc":
        server = grpc.server(ThreadPoolExecutor(max_workers=64))
        pb_grpc.add_InferenceServiceServicer_to_server(BareServicer(predictor), server)  # type: ignore[no-untyped-call]
        port = server.add_insecure_port(f"{listen.host}:{listen.port}")
        server.start()
        _announce(listen, port)
        server.wait_for_termination()
        return
    app = {"rest": bare_rest, "graphql": bare_graphql, "jsonrpc": bare_jsonrpc}[protocol]
    sock = bind_socket(listen)
    config = uvicorn.Config(
        app(predictor),
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
    _announce(listen, sock.getsockname()[1])
    uvicorn.Server(config).run(sockets=[sock])


def _announce(listen: Listen, port: int) -> None:
    assert listen.port_file is not None
    listen.port_file.write_text(str(port))


# -- the requests -----------------------------------------------------------------------------


def http_body(protocol: str) -> bytes:
    """The one-row iris predict, as the protocol's client sends it."""
    if protocol == "rest":
        return json.dumps({"instances": [ROW]}).encode()
    if protocol == "graphql":
        variables = {"model": MODEL, "instances": [ROW]}
        query = {"query": PREDICT.document, "operationName": PREDICT.name, "variables": variables}
        return json.dumps(query).encode()
    params = {"model": MODEL, "instances": [ROW]}
    return json.dumps({"jsonrpc": "2.0", "method": "predict", "params": params, "id": 1}).encode()


def grpc_frame() -> bytes:
    message = pb.PredictRequest(model=MODEL, instances=[pb.Instance(features=ROW)])
    data = message.SerializeToString()
    return struct.pack(">?I", False, len(data)) + data


def check_answer(protocol: str, port: int) -> None:
    """One predict through a real client of the protocol: the server answers a label."""
    if protocol == "grpc":
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.InferenceServiceStub(channel)  # type: ignore[no-untyped-call]
            request = pb.PredictRequest(model=MODEL, instances=[pb.Instance(features=ROW)])
            answer = stub.Predict(request, timeout=5)
            assert answer.predictions[0].label, answer
        return
    url = f"http://127.0.0.1:{port}{HTTP_PATHS[protocol]}"
    response = httpx.post(
        url, content=http_body(protocol), headers={"content-type": "application/json"}
    )
    response.raise_for_status()
    if b'"label"' not in response.content or b'"error' in response.content:
        raise RuntimeError(f"{protocol}: not a prediction: {response.text[:300]}")


# -- running it -------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def cpu_s(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)


@contextmanager
def server(protocol: str, variant: str, workdir: Path) -> Iterator[Server]:
    port_file = workdir / f"{protocol}-{variant}.port"
    command = ["taskset", "-c", "0", sys.executable, __file__, "--serve", protocol, variant,
               "--port-file", str(port_file)]  # fmt: skip
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 120
        while not port_file.exists() or not port_file.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {protocol} {variant} server did not start")
            time.sleep(0.1)
        port = int(port_file.read_text())
        for attempt in range(100):
            try:
                check_answer(protocol, port)
                break
            except (httpx.HTTPError, grpc.RpcError, RuntimeError):
                if attempt == 99:
                    raise
                time.sleep(0.2)
        yield Server(process, port)
    finally:
        process.terminate()
        process.wait(15)


def drive(protocol: str, port: int, seconds: float, workdir: Path) -> tuple[int, int]:
    """Run the native driver on CPU 1; (requests answered, failures)."""
    pin = ["taskset", "-c", "1"]
    if protocol == "grpc":
        data = workdir / "predict.grpc"
        data.write_bytes(grpc_frame())
        command = [*pin, "h2load", "--threads=1", f"--clients={CONNECTIONS}",
                   "--max-concurrent-streams=1", f"--duration={seconds:g}", f"--data={data}",
                   "--header=content-type: application/grpc", "--header=te: trailers",
                   f"http://127.0.0.1:{port}{GRPC_PATH}"]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        match = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out)
        if match is None:
            raise RuntimeError(f"cannot read h2load's output:\n{out[-2000:]}")
        return int(match[2]), int(match[1]) - int(match[2])
    script = workdir / f"{protocol}.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [==[{http_body(protocol).decode()}]==]\n"
    )
    command = [*pin, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "5s",
               "-s", str(script), f"http://127.0.0.1:{port}{HTTP_PATHS[protocol]}"]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    total = re.search(r"(\d+) requests in", out)
    if total is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out[-2000:]}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = sum(map(int, re.findall(r"(?:connect|read|write|timeout) (\d+)", out)))
    failed = (int(non_2xx[1]) if non_2xx else 0) + errors
    return int(total[1]) - failed, failed


@dataclass(frozen=True)
class Run:
    protocol: str
    variant: str
    round: int
    requests_per_s: float
    cpu_us_per_request: float
    failed: int


def measure(server: Server, protocol: str, variant: str, round_: int, seconds: float,
            workdir: Path) -> Run:  # fmt: skip
    cpu_before, started = server.cpu_s, time.monotonic()
    answered, failed = drive(protocol, server.port, seconds, workdir)
    wall, cpu = time.monotonic() - started, server.cpu_s - cpu_before
    run = Run(protocol, variant, round_, answered / wall, cpu / max(answered, 1) * 1e6, failed)
    print(f"  round {round_ + 1} {protocol:8} {variant:5} {run.requests_per_s:8,.0f} req/s "
          f"{run.cpu_us_per_request:6.0f} CPU µs/req  failed {failed}", flush=True)  # fmt: skip
    return run


def compare(protocol: str, rounds: int, seconds: float, workdir: Path) -> list[Run]:
    """Both servers up; warm each, then A B A B."""
    runs: list[Run] = []
    with server(protocol, "ours", workdir) as ours, server(protocol, "bare", workdir) as bare:
        pair = {"ours": ours, "bare": bare}
        for variant in VARIANTS:
            drive(protocol, pair[variant].port, 2, workdir)
        for round_ in range(rounds):
            for variant in VARIANTS:
                runs.append(measure(pair[variant], protocol, variant, round_, seconds, workdir))
    return runs


def table(runs: list[Run]) -> list[str]:
    lines = [
        "| protocol | ours req/s | bare req/s | ratio (median) | ratio range | "
        "ours CPU µs/req | bare CPU µs/req | failed |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for protocol in dict.fromkeys(r.protocol for r in runs):
        mine = [r for r in runs if r.protocol == protocol and r.variant == "ours"]
        bare = [r for r in runs if r.protocol == protocol and r.variant == "bare"]
        ratios = [a.requests_per_s / b.requests_per_s for a, b in zip(mine, bare, strict=True)]
        lines.append(
            f"| {protocol} | {statistics.median(r.requests_per_s for r in mine):,.0f} "
            f"| {statistics.median(r.requests_per_s for r in bare):,.0f} "
            f"| **{statistics.median(ratios):.3f}** | {min(ratios):.2f}–{max(ratios):.2f} "
            f"| {statistics.median(r.cpu_us_per_request for r in mine):.0f} "
            f"| {statistics.median(r.cpu_us_per_request for r in bare):.0f} "
            f"| {sum(r.failed for r in mine + bare)} |"
        )
    return lines


def breakdown_of(protocol: str, service: InferenceService, calls: int) -> dict[str, Any]:
    """The shipped server of ``protocol`` on CPU 0, this process (the client) on CPU 1."""
    with (
        launch(protocol, replicas=1, cpus=[0]) as cluster,
        connect(protocol, cluster.target) as client,
    ):
        client.predict(MODEL, [ROW])
        return breakdown(protocol, client, cluster.pids(), service, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", nargs=2, metavar=("PROTOCOL", "VARIANT"), help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--protocols",
        nargs="+",
        choices=PROTOCOLS,
        default=list(BARE_PROTOCOLS),
        help=f"default: the ones with a bare app here ({', '.join(BARE_PROTOCOLS)}); "
        "--breakdown takes any",
    )
    parser.add_argument("--rounds", type=int, default=3, help="A B pairs per protocol (3)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one run (5)")
    parser.add_argument("--json", type=Path, help="also write every run to this file")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="instead: where one predict's CPU goes per protocol (loadtests/breakdown.py)",
    )
    parser.add_argument("--calls", type=int, default=300, help="calls per breakdown round (300)")
    args = parser.parse_args()
    if args.serve:
        protocol, variant = args.serve
        listen = Listen(port_file=args.port_file)
        if variant == "bare":
            serve_bare(protocol, listen)
        else:
            service = InferenceService(Settings())
            service.load()
            load_serve(protocol)(service, listen)
        return
    for tool in ("wrk", "h2load", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"this benchmark needs {tool}: apt-get install wrk nghttp2-client")
    service = InferenceService(Settings())
    service.load()  # trains and stores the models once, before any server
    if args.breakdown:
        print(f"one call at a time, {args.calls} calls a round, CPU µs per call", flush=True)
        os.sched_setaffinity(0, {1})
        if skipped := [p for p in args.protocols if not has_codec(p)]:
            print(f"not measured, their specs name no codec: {', '.join(skipped)}")
        measured = {p: breakdown_of(p, service, args.calls) for p in args.protocols if has_codec(p)}
        print("", *breakdown_table(measured), sep="\n")
        if args.json:
            args.json.write_text(json.dumps(measured, indent=1))
        return
    print(f"servers on CPU 0, wrk/h2load on CPU 1, {CONNECTIONS} connections, "
          f"{args.rounds} x {args.seconds:g} s per variant, alternated")  # fmt: skip
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        for protocol in args.protocols:
            runs += compare(protocol, args.rounds, args.seconds, Path(tmp))
    print("", *table(runs), sep="\n")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=1))


if __name__ == "__main__":
    main()
