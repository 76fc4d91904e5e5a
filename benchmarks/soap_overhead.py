"""What the SOAP adapter costs over bare spyne, and what hosting spyne through a2wsgi costs.

Three real servers on loopback, each its own process pinned to CPU 0, answering the same
one-row iris predict envelope (the answer has the same elements):

  ours          servers/soap_server.py as shipped: the core, the API-key and body-limit
                middleware, the Fault mapping, spyne hosted by servers/wsgi_host.py
  bare          one spyne ``Predict`` operation answering with plain numpy
                (adapter_overhead.BarePredictor), hosted by servers/wsgi_host.py
  bare-a2wsgi   the same bare spyne app through a2wsgi's WSGIMiddleware (64 threads), the
                general bridge the adapter used before. When wrk stops, calls whose body never
                came make spyne raise StopIteration in a2wsgi's thread, which asyncio cannot
                hand back ("StopIteration interacts badly with generators"): those calls never
                end and the server must be killed (the adapter answers them with a Fault)

all on uvicorn with uvloop and httptools. ``wrk -t1 -c32`` pinned to CPU 1 drives each in
turn, A B C A B C (``--rounds`` of ``--seconds`` each, after a warm-up); the table prints each
variant's median req/s and server CPU microseconds per request (process CPU time over the
run), and the median of the per-round ratios against ``bare``.

    flock /tmp/protobench-bench.lock .venv/bin/python benchmarks/soap_overhead.py

Needs ``wrk`` (``apt-get install wrk``); about 2 minutes with the defaults. Numbers go to
docs/soap.md.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import spyne.const
import uvicorn
from a2wsgi import WSGIMiddleware
from adapter_overhead import MODEL, ROW, BarePredictor, Run, Server
from spyne import Application, ComplexModel, Double, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from servers.listen import Listen, bind_socket
from servers.soap_server import ENVELOPE
from servers.soap_server import serve as serve_ours
from servers.wsgi_host import asgi_of

VARIANTS = ("ours", "bare", "bare-a2wsgi")
CONNECTIONS = 32
THREADS = 64
NAMESPACE = "urn:protobench:v1"
PATH = "/soap"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"Predict"'}


# -- the bare spyne app -----------------------------------------------------------------------


class Instance(ComplexModel):  # type: ignore[misc]
    __namespace__ = NAMESPACE
    features = Double(max_occurs="unbounded")


class Prediction(ComplexModel):  # type: ignore[misc]
    __namespace__ = NAMESPACE
    label = Unicode
    probabilities = Double(max_occurs="unbounded")


class PredictResponse(ComplexModel):  # type: ignore[misc]
    __namespace__ = NAMESPACE
    model = Unicode
    version = Unicode
    served_by = Unicode
    predictions = Prediction.customize(max_occurs="unbounded")
    prediction_id = Unicode
    arm = Unicode


def bare_spyne(predictor: BarePredictor) -> WsgiApplication:
    class Service(ServiceBase):  # type: ignore[misc]
        @rpc(  # type: ignore[misc]
            Unicode,
            Instance.customize(max_occurs="unbounded"),
            Unicode,
            Unicode,
            _returns=PredictResponse,
            _body_style="out_bare",
        )
        def Predict(ctx: Any, model: Any, instances: Any, version: Any, caller: Any) -> Any:
            return predictor.answer([list(i.features) for i in instances])

    application = Application(
        [Service], NAMESPACE, in_protocol=Soap11(validator="soft"), out_protocol=Soap11()
    )
    return WsgiApplication(application)


def serve(variant: str, listen: Listen) -> None:
    if variant == "ours":
        service = InferenceService(Settings())
        service.load()
        serve_ours(service, listen)
        return
    spyne.const.MIN_GC_INTERVAL = math.inf  # no forced gc.collect() each second, as in ours
    app = bare_spyne(BarePredictor(Settings()))
    asgi = (
        WSGIMiddleware(app, workers=THREADS) if variant == "bare-a2wsgi" else asgi_of(app, THREADS)
    )
    sock = bind_socket(listen)
    config = uvicorn.Config(
        asgi, loop="uvloop", http="httptools", lifespan="off", access_log=False, log_level="warning"
    )
    assert listen.port_file is not None
    listen.port_file.write_text(str(sock.getsockname()[1]))
    uvicorn.Server(config).run(sockets=[sock])


# -- running it -------------------------------------------------------------------------------


def envelope() -> bytes:
    """The one-row predict as the load generator's SOAP user sends it."""
    features = "".join(f"<p:features>{value}</p:features>" for value in ROW)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{ENVELOPE}" '
        f'xmlns:p="{NAMESPACE}"><soap:Body><p:Predict><p:model>{MODEL}</p:model>'
        f"<p:instances>{features}</p:instances></p:Predict></soap:Body></soap:Envelope>"
    ).encode()


def check_answer(port: int) -> None:
    answer = httpx.post(f"http://127.0.0.1:{port}{PATH}", content=envelope(), headers=HEADERS)
    answer.raise_for_status()
    if b"<tns:label>" not in answer.content:
        raise RuntimeError(f"not a prediction: {answer.text[:300]}")


@contextmanager
def server(variant: str, workdir: Path) -> Iterator[Server]:
    """The variant's server on CPU 0, once it has answered a predict."""
    port_file = workdir / f"{variant}.port"
    command = ["taskset", "-c", "0", sys.executable, __file__, "--serve", variant,
               "--port-file", str(port_file)]  # fmt: skip
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                port = int(port_file.read_text())
                check_answer(port)
                break
            except (OSError, ValueError, httpx.HTTPError, RuntimeError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {variant} server did not answer") from None
                time.sleep(0.2)
        yield Server(process, port)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:  # a2wsgi can leave a call that never ends (below)
            process.kill()
            process.wait(15)


# wrk prints its own count of answers and of failures (non-2xx and socket errors) as JSON.
REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "failed": %d}\\n', summary.requests,
                         e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_script(path: Path) -> Path:
    headers = "".join(f'wrk.headers["{k}"] = [[{v}]]\n' for k, v in HEADERS.items())
    body = envelope().decode()
    path.write_text(f'wrk.method = "POST"\n{headers}wrk.body = [==[{body}]==]\n{REPORT}')
    return path


def drive(port: int, seconds: float, script: Path) -> tuple[int, int]:
    """``wrk`` on CPU 1; (requests answered, failures)."""
    command = ["taskset", "-c", "1", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s",
               "--timeout", "5s", "-s", str(script), f"http://127.0.0.1:{port}{PATH}"]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    report = json.loads(next(line for line in out.splitlines() if line.startswith('{"requests"')))
    return report["requests"] - report["failed"], report["failed"]


def run_of(server: Server, variant: str, round_: int, seconds: float, script: Path) -> Run:
    """One measured run: req/s and the server's CPU µs per answered request."""
    cpu_s, started = server.cpu_s, time.monotonic()
    answered, failed = drive(server.port, seconds, script)
    rate = answered / (time.monotonic() - started)
    cpu_us = (server.cpu_s - cpu_s) / max(answered, 1) * 1e6
    print(f"  round {round_ + 1} {variant:11} {rate:7,.0f} req/s {cpu_us:6.0f} CPU µs/req  "
          f"failed {failed}", flush=True)  # fmt: skip
    return Run("soap", variant, round_, rate, cpu_us, failed)


def table(runs: list[Run]) -> list[str]:
    bare = [r for r in runs if r.variant == "bare"]
    lines = [
        "| variant | req/s (median) | ratio to bare (median) | ratio range | CPU µs/req | failed |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for variant in VARIANTS:
        mine = [r for r in runs if r.variant == variant]
        ratios = [a.requests_per_s / b.requests_per_s for a, b in zip(mine, bare, strict=True)]
        lines.append(
            f"| {variant} | {statistics.median(r.requests_per_s for r in mine):,.0f} "
            f"| **{statistics.median(ratios):.3f}** | {min(ratios):.2f}–{max(ratios):.2f} "
            f"| {statistics.median(r.cpu_us_per_request for r in mine):.0f} "
            f"| {sum(r.failed for r in mine)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3, help="A B C rounds (3)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one run (5)")
    parser.add_argument("--json", type=Path, help="also write every run to this file")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, Listen(port_file=args.port_file))
        return
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"this benchmark needs {tool}: apt-get install wrk")
    InferenceService(Settings()).load()  # trains and stores the models once, before any server
    print(f"servers on CPU 0, wrk on CPU 1, {CONNECTIONS} connections, "
          f"{args.rounds} x {args.seconds:g} s per variant, alternated")  # fmt: skip
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        script = wrk_script(workdir / "soap.lua")
        servers = {v: stack.enter_context(server(v, workdir)) for v in VARIANTS}
        for variant in VARIANTS:
            drive(servers[variant].port, 2, script)
        for round_ in range(args.rounds):
            for variant in VARIANTS:
                runs.append(run_of(servers[variant], variant, round_, args.seconds, script))
    print("", *table(runs), sep="\n")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=1))


if __name__ == "__main__":
    main()
