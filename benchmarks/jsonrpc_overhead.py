"""What the JSON-RPC adapter costs over bare jsonrpcserver, and both over bare FastAPI.

Four servers, each a real uvicorn process (uvloop, httptools) on loopback pinned to CPU 0, all
up at once and loaded in turns by ``wrk`` pinned to CPU 1 (one thread, 16 keep-alive
connections, closed loop), two rounds, best round kept:

  fastapi          POST /predict, a pydantic body, ``service.apredict``: the floor
  jsonrpcserver    Starlette route + ``async_dispatch`` with one plain ``predict`` method
  adapter          servers/jsonrpc_server.py as shipped (plain ASGI)
  adapter-star     the same dispatcher behind a Starlette route (why the adapter is plain ASGI)

then, in process, the CPU microseconds one body costs in the adapter's dispatcher against bare
``async_dispatch`` and the core alone (no HTTP, no network: the adapter's own cost).

    flock /tmp/protobench-bench.lock .venv/bin/python benchmarks/jsonrpc_overhead.py

Needs ``wrk`` (``apt-get install wrk``); about 2 minutes. Numbers go to docs/jsonrpc.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from jsonrpcserver import Result, Success, async_dispatch
from pydantic import BaseModel, StrictFloat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from servers.asgi_runner import serve_asgi
from servers.jsonrpc_server import JsonRpcApp, create_app
from servers.listen import Listen

VARIANTS = ("fastapi", "jsonrpcserver", "adapter", "adapter-star")
JSON = {"content-type": "application/json"}
ROW = [5.1, 3.5, 1.4, 0.2]
SCENARIOS = {"1 row": [ROW], "100 rows": [ROW] * 100}
BATCH_CALLS = 10
DURATION_S = 3
ROUNDS = 2
CONNECTIONS = 16
MICRO_CALLS = 500


# -- the servers ------------------------------------------------------------------------------


class PredictBody(BaseModel):
    instances: list[list[StrictFloat]]


def bare_fastapi(service: InferenceService) -> Any:
    app = FastAPI()

    @app.post("/predict")
    async def predict(body: PredictBody) -> dict[str, Any]:
        return (await service.apredict("iris", body.instances)).model_dump()

    return app


def bare_methods(service: InferenceService) -> dict[str, Any]:
    async def predict(model: str, instances: list[list[float]]) -> Result:
        return Success((await service.apredict(model, instances)).model_dump())

    return {"predict": predict}


def bare_jsonrpcserver(service: InferenceService) -> Any:
    methods = bare_methods(service)

    async def endpoint(request: Request) -> Response:
        answer = await async_dispatch((await request.body()).decode(), methods=methods)
        return Response(answer, 200 if answer else 204, media_type="application/json")

    return Starlette(routes=[Route("/jsonrpc", endpoint, methods=["POST"])])


def adapter_on_starlette(service: InferenceService) -> Any:
    dispatcher = JsonRpcApp(service).dispatcher

    async def endpoint(request: Request) -> Response:
        answer = await dispatcher.answer(await request.body())
        return Response(answer, 200 if answer else 204, media_type="application/json")

    return Starlette(routes=[Route("/jsonrpc", endpoint, methods=["POST"])])


def app_for(variant: str, service: InferenceService) -> Any:
    return {
        "fastapi": bare_fastapi,
        "jsonrpcserver": bare_jsonrpcserver,
        "adapter": create_app,
        "adapter-star": adapter_on_starlette,
    }[variant](service)


@contextmanager
def server_process(variant: str, workdir: Path) -> Iterator[str]:
    """Start one variant in its own process on CPU 0; yield its base URL once it predicts."""
    port_file = workdir / f"{variant}.port"
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    process = subprocess.Popen(
        [*pin, sys.executable, __file__, "--serve", variant, "--port-file", str(port_file)]
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the {variant} server exited")
            if port_file.exists():
                url = f"http://127.0.0.1:{port_file.read_text()}"
                path, body = request_for(variant, [ROW])
                try:
                    answer = httpx.post(url + path, content=body, headers=JSON)
                    if answer.status_code == 200 and b'"error"' not in answer.content:
                        yield url
                        return
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        raise TimeoutError(f"the {variant} server did not answer in time")
    finally:
        process.terminate()
        process.wait(15)


# -- the load ---------------------------------------------------------------------------------


def jsonrpc_call(rows: list[list[float]], id: int = 1) -> dict[str, Any]:
    params = {"model": "iris", "instances": rows}
    return {"jsonrpc": "2.0", "method": "predict", "params": params, "id": id}


def request_for(variant: str, rows: list[list[float]], batch: bool = False) -> tuple[str, bytes]:
    if variant == "fastapi":
        return "/predict", json.dumps({"instances": rows}).encode()
    if batch:
        return "/jsonrpc", json.dumps([jsonrpc_call(rows, i) for i in range(BATCH_CALLS)]).encode()
    return "/jsonrpc", json.dumps(jsonrpc_call(rows)).encode()


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match[2]]


def run_wrk(url: str, body: bytes, warm_up: bool) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms) and failed requests from one wrk run."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = [==[{body.decode()}]==]\n"
        )
    pin = ["taskset", "-c", "1"] if shutil.which("taskset") else []
    base = [*pin, "wrk", "-t1", f"-c{CONNECTIONS}", "--latency", "--timeout", "5s", "-s"]
    try:
        if warm_up:
            subprocess.run([*base, script.name, "-d1s", url], capture_output=True, check=True)
        out = subprocess.run(
            [*base, script.name, f"-d{DURATION_S}s", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if rps is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    return {
        "rps": float(rps[1]),
        "p50": _milliseconds(percentiles["50"]),
        "p99": _milliseconds(percentiles["99"]),
        "failed": float(failed[1]) if failed else 0.0,
    }


def http_table() -> list[str]:
    """All servers up at once (idle ones cost nothing); the variants take turns, ROUNDS times,
    so that a burst of load from elsewhere on a shared machine hits them alike. Best round."""
    scenarios = [(name, rows, False) for name, rows in SCENARIOS.items()]
    scenarios.append((f"batch of {BATCH_CALLS} x 1 row", [ROW], True))
    best: dict[tuple[str, str], dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        urls = {v: servers.enter_context(server_process(v, Path(tmp))) for v in VARIANTS}
        for round_ in range(ROUNDS):
            for name, rows, batch in scenarios:
                for variant in VARIANTS:
                    if batch and variant == "fastapi":
                        continue
                    path, body = request_for(variant, rows, batch)
                    result = run_wrk(urls[variant] + path, body, warm_up=round_ == 0)
                    key = (variant, name)
                    if key not in best or result["rps"] > best[key]["rps"]:
                        best[key] = result
                    print(f"round {round_ + 1}: {variant}, {name}: {result['rps']:,.0f}/s")
    lines = [
        "| scenario | server | requests/s | p50 ms | p99 ms | failed |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (variant, name), r in sorted(best.items(), key=lambda item: item[0][1]):
        lines.append(
            f"| {name} | {variant} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
            f"{r['failed']:.0f} |"
        )
    return lines


# -- in process -------------------------------------------------------------------------------


async def _cpu_per_call(answer: Any, body: bytes) -> float:
    """CPU microseconds per call, best of five rounds: CPU time, not wall time, so that other
    processes on a shared machine do not count (they still disturb the caches a little)."""
    for _ in range(200):  # warm-up
        await answer(body)
    rounds = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(MICRO_CALLS):
            await answer(body)
        rounds.append((time.process_time() - start) / MICRO_CALLS * 1e6)
    return min(rounds)


async def micro_table(service: InferenceService) -> list[str]:
    dispatcher = JsonRpcApp(service).dispatcher
    methods = bare_methods(service)

    async def bare(body: bytes) -> Any:
        return await async_dispatch(body.decode(), methods=methods)

    async def core_only(body: bytes) -> Any:  # as many predicts as the body holds calls
        for _ in range(body.count(b'"predict"')):
            await service.apredict("iris", [ROW])

    single = json.dumps(jsonrpc_call([ROW])).encode()
    batch = json.dumps([jsonrpc_call([ROW], i) for i in range(BATCH_CALLS)]).encode()
    lines = [
        f"| in process | 1-row predict, CPU µs | batch of {BATCH_CALLS}, CPU µs |",
        "|---|---:|---:|",
    ]
    for name, answer in (
        ("core `apredict` alone", core_only),
        ("bare jsonrpcserver `async_dispatch`", bare),
        ("adapter `Dispatcher.answer`", dispatcher.answer),
    ):
        one, many = await _cpu_per_call(answer, single), await _cpu_per_call(answer, batch)
        lines.append(f"| {name} | {one:.1f} | {many:.1f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    service = InferenceService(Settings())
    if args.serve:
        serve_asgi(
            app_for(args.serve, service), args.serve, service, Listen(port_file=args.port_file)
        )
        return
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    service.load()  # trains and stores the models on first use, before any server needs them
    print(f"wrk -t1 -c{CONNECTIONS}, {DURATION_S} s a run, servers on CPU 0, wrk on CPU 1")
    http = http_table()
    micro = asyncio.run(micro_table(service))
    print("", *http, "", *micro, sep="\n")


if __name__ == "__main__":
    main()
