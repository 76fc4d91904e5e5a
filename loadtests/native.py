"""The native cross-check driver: wrk (HTTP/1.1 protocols) and h2load (gRPC) run the same
closed-model cell Locust runs, so a report can show whether the Python users measured the server
or themselves (``protobench bench --driver native``).

Each sends the request the protocol's client encodes for the cell's predict call, byte for byte:
wrk through a Lua script that sets the method, headers and body; h2load a pre-serialised,
length-prefixed gRPC frame. Neither reads the answers: wrk counts non-2xx statuses, h2load failed
streams, so an error carried inside a 200 (GraphQL ``errors[]``, JSON-RPC ``error``, gRPC's
``grpc-status`` trailer) goes unseen. Throughput comes from the replicas' own counters over the
measured window; latency from the tool, over its whole run (warm-up included).
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clients import client_class
from clients.http_transport import HttpInferenceClient
from loadtests.matrix import Cell
from loadtests.workload import Workload
from protobench.protocol_spec import Transport
from protobench.protocols import spec

DRIVERS = ("locust", "native")
TOOLS = {Transport.HTTP1: "wrk", Transport.H2C: "h2load"}
GRPC_SERVICE = "protobench.v1.InferenceService"

# wrk's done() hook prints the latency summary (µs) as one JSON line.
WRK_SCRIPT = """\
wrk.method = {method}
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  io.write(string.format('PROTOBENCH {{"p50": %d, "p90": %d, "p99": %d, "p999": %d, ' ..
    '"max": %d, "mean": %f, "requests": %d, "non2xx": %d, "errors": %d}}\\n',
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


def unusable(protocols: tuple[str, ...], payload: str, open_model: bool) -> str | None:
    """Why ``--driver native`` cannot run these cells (None: it can)."""
    if open_model:
        return "the native driver runs closed-model cells only (--users, not --rate)"
    if payload != "iris":
        return "the native driver sends the iris predict only (--payload iris)"
    for protocol in protocols:
        tool = TOOLS.get(spec(protocol).transport)
        if tool is None or (
            tool == "wrk" and not issubclass(client_class(protocol), HttpInferenceClient)
        ):
            return f"no native driver for {protocol}; leave it out or use --driver locust"
        if shutil.which(tool) is None:
            package = "wrk" if tool == "wrk" else "nghttp2-client"
            return (f"{tool} is not installed: apt-get install {package} (or bash "
                    "scripts/install-system-deps.sh), or use --driver locust")  # fmt: skip
    return None


def _lua(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return '"' + "".join(f"\\{b:03d}" for b in raw) + '"'  # every byte escaped: any body is safe


@dataclass(frozen=True)
class NativeRun:
    command: list[str]
    log: Path  # the tool's output
    latency_log: Path | None  # h2load's per-request log


def _iris_call(cell: Cell) -> dict[str, Any]:
    call = Workload(cell.payload, cell.batch).next_call(random.Random(0))
    if call.name != "predict":
        raise ValueError("the native driver sends the iris predict payload only")
    return call.arguments


def native_command(cell: Cell, target: str, folder: Path, run_time_s: float) -> NativeRun:
    """The wrk or h2load command for the cell, its script or data file written into ``folder``."""
    transport = spec(cell.protocol).transport
    tool = TOOLS.get(transport)
    problem = unusable((cell.protocol,), cell.payload, cell.rate is not None)
    if problem:
        raise ValueError(problem)
    arguments = _iris_call(cell)
    log = folder / f"{tool}.log"
    seconds = f"{math.ceil(run_time_s)}"
    if tool == "h2load":
        from protobench.proto_convert import predict_request_to_pb

        message = predict_request_to_pb(**arguments).SerializeToString()
        data = folder / "predict.grpc"
        data.write_bytes(struct.pack(">BI", 0, len(message)) + message)
        latency_log = folder / "h2load-requests.log"
        command = ["h2load", "--threads=1", f"--clients={cell.users}",
                   "--max-concurrent-streams=1", f"--duration={seconds}", f"--data={data}",
                   f"--log-file={latency_log}", "--header=content-type: application/grpc",
                   "--header=te: trailers", f"http://{target}/{GRPC_SERVICE}/Predict"]  # fmt: skip
        return NativeRun(command, log, latency_log)
    cls = client_class(cell.protocol)
    if not issubclass(cls, HttpInferenceClient):
        raise ValueError(f"no native driver for {cell.protocol}")
    client = cls(target)
    try:
        request = client._predict_request(**arguments)
    finally:
        client.close()
    headers = dict(cls.headers)
    if request.content_type:
        headers["content-type"] = request.content_type
    script = folder / "request.lua"
    script.write_text(
        WRK_SCRIPT.format(
            method=_lua(request.method),
            body=_lua(request.body),
            headers="\n".join(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()),
        )
    )
    command = ["wrk", "-t1", f"-c{cell.users}", f"-d{seconds}s", "--timeout", "30s",
               "-s", str(script), f"http://{target}{request.path}"]  # fmt: skip
    return NativeRun(command, log, None)


def native_latency(run: NativeRun) -> tuple[dict[str, float], int]:
    """Latency percentiles in ms over the tool's run, and the failed requests it counted."""
    output = run.log.read_text(errors="replace")
    if run.latency_log is None:
        match = re.search(r"^PROTOBENCH (\{.*\})$", output, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"cannot read wrk's output:\n{output[-2000:]}")
        found = json.loads(match[1])
        latency = {k: found[k] / 1000.0 for k in ("p50", "p90", "p99", "p999", "max", "mean")}
        return latency, int(found["non2xx"]) + int(found["errors"])
    import numpy as np

    from loadtests.stats import LatencySummary

    # h2load's log: start time (µs since epoch), HTTP status, request time (µs), one per line.
    rows = np.loadtxt(run.latency_log, ndmin=2)
    failed = re.search(r"(\d+) failed, (\d+) errored, (\d+) timeout", output)
    if failed is None or len(rows) == 0:
        raise RuntimeError(f"cannot read h2load's output:\n{output[-2000:]}")
    summary = LatencySummary.of(rows[:, 2] / 1e6)
    errors = int(failed[1]) + int(failed[2]) + int(failed[3])
    return {k: float(v) for k, v in summary.__dict__.items()}, errors
