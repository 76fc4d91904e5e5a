"""MLServer beside protobench, on the same model and the same load, in one run.

MLServer (the ``mlserver`` and ``mlserver-sklearn`` packages, installed by this script into a
venv of its own, ``~/.cache/protobench/peers/mlserver-venv``) serves the same iris
LogisticRegression that protobench serves as iris version 1: the estimator is fitted by
protobench's own recipe (``protobench.core.catalogue.fit``) and saved with joblib for
MLServer's scikit-learn runtime, with ``predict_proba`` requested, as our protocols answer it.

Every server is pinned to one core (``taskset``); the native drivers run on the others.
wrk drives HTTP/1.1 and h2load drives gRPC (h2c), with the same number of requests in flight
and the same duration for every target. Each target gets a warm-up, and the targets are
measured in alternation (A B C ... A B C ...) so a drift of the machine spreads over all of
them. The medians go into a markdown table with the ratios the issue asks for, beside the
server's CPU time per request answered (its process and children, read with psutil around each
run): other processes on a shared machine disturb it less than the rate. Every request body is
checked once with a real call before the load starts, because h2load counts a gRPC error
(HTTP 200 with an error status in the trailers) as a success.

Both gRPC servers get ``ModelInfer`` in both forms: raw input contents (what tritonclient.grpc
sends by default; MLServer answers those in raw output contents too) and typed contents. The
bodies are serialised once, framed, and h2load sends the same bytes on every stream.

    python benchmarks/peers.py                       # 64 in flight, 6 s per measurement, 5 rounds
    python benchmarks/peers.py --duration 5 --rounds 2 --connections 64

Needs wrk and h2load (``apt-get install wrk nghttp2-client``) and taskset (util-linux).
Binds 127.0.0.1 ports from ``--base-port`` (24100) upwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import numpy as np
import orjson
import psutil

from protobench.core.catalogue import CATALOGUE, fit
from protobench.core.registry import ModelRegistry
from protobench.proto_convert import predict_request_to_pb
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import open_inference_pb2 as oip

MLSERVER = ("mlserver==1.7.1", "mlserver-sklearn==1.7.1")
VENV = Path.home() / ".cache" / "protobench" / "peers" / "mlserver-venv"
ROW = [5.1, 3.5, 1.4, 0.2]
VERSION = "1"  # protobench's iris version 1 is the LogisticRegression MLServer serves
START_TIMEOUT_S = 180.0
HEADER_LENGTH = "Inference-Header-Content-Length"
INFER_PATH = "/inference.GRPCInferenceService/ModelInfer"


@dataclass
class Target:
    """One server and one request, driven by wrk (``h2c`` False) or h2load."""

    name: str
    server: str  # which process serves it
    h2c: bool
    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    check: Callable[[bytes], bool] = lambda _: True  # is this answer a real prediction?
    port: int = 0
    rates: list[float] = field(default_factory=list)
    timeouts: int = 0  # requests wrk gave up on (no answer within 5 s) or socket errors
    latency_ms: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # server CPU time per request answered


# -- request bodies ------------------------------------------------------------------------------


def grpc_frame(message: bytes) -> bytes:
    return b"\0" + len(message).to_bytes(4, "big") + message


def oip_json(input_name: str, outputs: list[str]) -> bytes:
    """The V2 JSON body both servers accept (tensor data as a JSON list)."""
    document: dict[str, object] = {
        "inputs": [{"name": input_name, "datatype": "FP64", "shape": [1, 4], "data": [ROW]}]
    }
    if outputs:
        document["outputs"] = [{"name": name} for name in outputs]
    return orjson.dumps(document)


def oip_binary() -> tuple[bytes, dict[str, str]]:
    """What tritonclient.http sends by default: FP64 bytes after the JSON, binary outputs."""
    raw = np.asarray([ROW], dtype="<f8").tobytes()
    head = orjson.dumps({
        "inputs": [{"name": "features", "datatype": "FP64", "shape": [1, 4],
                    "parameters": {"binary_data_size": len(raw)}}],
        "parameters": {"binary_data_output": True},
    })  # fmt: skip
    return head + raw, {HEADER_LENGTH: str(len(head))}


def oip_infer(model_version: str, outputs: list[str], raw: bool) -> bytes:
    tensor = oip.ModelInferRequest.InferInputTensor(name="features", datatype="FP64", shape=[1, 4])
    request = oip.ModelInferRequest(model_name="iris", model_version=model_version, inputs=[tensor])
    if raw:  # what tritonclient.grpc sends
        request.raw_input_contents.append(np.asarray([ROW], dtype="<f8").tobytes())
    else:
        tensor = request.inputs[0]
        tensor.contents.fp64_contents.extend(ROW)
    for name in outputs:
        request.outputs.add(name=name)
    return bytes(request.SerializeToString())


def targets() -> list[Target]:
    binary, binary_headers = oip_binary()
    json_headers = {"Content-Type": "application/json"}
    has_probabilities = _json_has(b"predict_proba")
    return [
        Target("MLServer V2 REST", "mlserver", False, "/v2/models/iris/infer",
               oip_json("features", ["predict_proba"]), json_headers, has_probabilities),
        Target("MLServer V2 gRPC (typed)", "mlserver", True, INFER_PATH,
               grpc_frame(oip_infer("", ["predict_proba"], raw=False)), {},
               _oip_answers("predict_proba")),
        Target("MLServer V2 gRPC (raw)", "mlserver", True, INFER_PATH,
               grpc_frame(oip_infer("", ["predict_proba"], raw=True)), {},
               _oip_answers("predict_proba")),
        Target("rest", "rest", False, "/models/iris/predict",
               orjson.dumps({"instances": [ROW], "version": VERSION}), json_headers,
               _json_has(b"probabilities")),
        Target("grpc", "grpc", True, "/protobench.v1.InferenceService/Predict",
               grpc_frame(predict_request_to_pb("iris", [ROW], VERSION).SerializeToString()), {},
               _protobench_answers),
        Target("oip-rest (binary, tritonclient's default)", "oip-rest", False,
               f"/v2/models/iris/versions/{VERSION}/infer", binary, binary_headers,
               lambda body: b"binary_data_size" in body),
        Target("oip-rest (JSON, as sent to MLServer)", "oip-rest", False,
               f"/v2/models/iris/versions/{VERSION}/infer", oip_json("features", []),
               json_headers, _json_has(b"probabilities")),
        Target("oip-grpc (raw, tritonclient's default)", "oip-grpc", True, INFER_PATH,
               grpc_frame(oip_infer(VERSION, [], raw=True)), {}, _oip_answers("probabilities")),
        Target("oip-grpc (typed, as sent to MLServer)", "oip-grpc", True, INFER_PATH,
               grpc_frame(oip_infer(VERSION, [], raw=False)), {}, _oip_answers("probabilities")),
    ]  # fmt: skip


def _json_has(marker: bytes) -> Callable[[bytes], bool]:
    return lambda body: marker in body


def _oip_answers(output: str) -> Callable[[bytes], bool]:
    """A ModelInferResponse holding ``output`` with one row of three probabilities."""

    def check(body: bytes) -> bool:
        answer = oip.ModelInferResponse.FromString(body)
        shapes = {o.name: list(o.shape) for o in answer.outputs}
        return shapes.get(output) == [1, 3]

    return check


def _protobench_answers(body: bytes) -> bool:
    answer = pb.PredictResponse.FromString(body)
    return len(answer.predictions) == 1 and len(answer.predictions[0].probabilities) == 3


# -- servers -------------------------------------------------------------------------------------


def ensure_mlserver() -> Path:
    """The ``mlserver`` program of our own venv, created on first use."""
    program = VENV / "bin" / "mlserver"
    if program.exists():
        return program
    print(f"installing {' and '.join(MLSERVER)} into {VENV} (once; a few minutes)", flush=True)
    VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *MLSERVER], check=True)
    return program


def mlserver_folder(folder: Path, http_port: int, grpc_port: int, metrics_port: int) -> Path:
    """MLServer's model folder: the fitted estimator and its settings."""
    import joblib

    recipe = CATALOGUE["iris"]
    version = next(v for v in recipe.versions if v.version == VERSION)
    _, estimator = fit(recipe, version)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, folder / "model.joblib")
    (folder / "model-settings.json").write_text(json.dumps({
        "name": "iris", "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"},
    }))  # fmt: skip
    # parallel_workers 0: inference in the server process itself, which is MLServer's fastest
    # on one core (a worker pool adds a process hop per request and a core it may not have).
    (folder / "settings.json").write_text(json.dumps({
        "http_port": http_port, "grpc_port": grpc_port, "metrics_port": metrics_port,
        "parallel_workers": 0, "debug": False, "host": "127.0.0.1",
    }))  # fmt: skip
    return folder


@contextmanager
def started(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[psutil.Process]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        yield psutil.Process(process.pid)  # taskset execs the server: this is its pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until(check: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, grpc.RpcError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what} did not come up; its log:\n{log.read_text(errors='replace')[-3000:]}")


def send_once(target: Target) -> bytes:
    """The target's exact request body, once, with a real client: the answer's body."""
    address = f"127.0.0.1:{target.port}"
    if not target.h2c:
        response = httpx.post(f"http://{address}{target.path}", content=target.body,
                              headers=target.headers, timeout=30)  # fmt: skip
        if response.status_code != 200:
            raise SystemExit(f"{target.name}: HTTP {response.status_code}: {response.text[:500]}")
        return response.content
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary(target.path, None, None)
        try:
            answer: bytes = call(target.body[5:], timeout=30)
        except grpc.RpcError as exc:
            raise SystemExit(f"{target.name}: {exc.code().name}: {exc.details()}") from None
        return answer


# -- drivers -------------------------------------------------------------------------------------


def lua_string(data: bytes) -> str:
    """A Lua string literal of any bytes: three-digit decimal escapes for all but plain ASCII
    (a shorter escape would swallow a digit that follows it)."""
    plain = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:{}[]")
    return '"' + "".join(chr(b) if b in plain else f"\\{b:03d}" for b in data) + '"'


def drive(target: Target, connections: int, seconds: float, cpus: str, workdir: Path) -> tuple[
    float, float, int
]:  # fmt: skip
    """Requests/s, mean latency (ms) and requests answered of one run of the native driver."""
    url = f"http://127.0.0.1:{target.port}{target.path}"
    pin = ["taskset", "-c", cpus]
    if target.h2c:
        data = workdir / "body.grpc"
        data.write_bytes(target.body)
        command = [*pin, "h2load", "--threads=1", f"--clients={connections}",
                   "--max-concurrent-streams=1", f"--duration={seconds:g}", f"--data={data}",
                   "--header=content-type: application/grpc", "--header=te: trailers",
                   url]  # fmt: skip
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        done = re.search(r"(\d+) succeeded, (\d+) failed, (\d+) errored", out)
        rate = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
        mean = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", out)
        if not (done and rate and mean) or int(done[2]) or int(done[3]):
            raise SystemExit(f"{target.name}: h2load failed or errored:\n{out[-2000:]}")
        return float(rate[1]), _ms(mean[1]), int(done[1])
    script = workdir / "request.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {lua_string(target.body)}"]
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in target.headers.items()]
    script.write_text("\n".join(lines) + "\n")
    command = [*pin, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency",
               "--timeout", "5s", "-s", str(script), url]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    answered = re.search(r"(\d+) requests in", out)
    mean = re.search(r"Latency\s+(\S+)", out)
    if rate is None or mean is None or answered is None or "Non-2xx" in out:
        raise SystemExit(f"{target.name}: wrk saw error answers:\n{out[-2000:]}")
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:  # a server too slow for wrk's 5 s timeout: counted, said in the table
        target.timeouts += sum(int(n) for n in socket_errors.groups())
    return float(rate[1]), _ms(mean[1]), int(answered[1])


def cpu_seconds(process: psutil.Process) -> float:
    """The CPU time a server and its child processes have used so far."""
    total = 0.0
    for member in (process, *process.children(recursive=True)):
        try:
            times = member.cpu_times()
        except psutil.NoSuchProcess:  # a child that ended: its time is lost, a small error
            continue
        total += times.user + times.system
    return total


def measure(target: Target, server: psutil.Process, connections: int, seconds: float, cpus: str,
            workdir: Path) -> None:  # fmt: skip
    """One measured run: its rate, latency and the server's CPU time per request answered,
    which other processes on the machine disturb less than the rate."""
    before = cpu_seconds(server)
    rate, latency, answered = drive(target, connections, seconds, cpus, workdir)
    target.cpu_us.append((cpu_seconds(server) - before) / max(answered, 1) * 1e6)
    target.rates.append(rate)
    target.latency_ms.append(latency)


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return float(match[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match[2]]


# -- the run -------------------------------------------------------------------------------------


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = re.search(r"Model name:\s+(.+)", lscpu)
    load = os.getloadavg()
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {model[1] if model else '?'}; "
        f"{os.cpu_count()} CPUs; {platform.system()} {platform.release()}; Python "
        f"{platform.python_version()}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )


RATIOS = (  # (label, numerator target, denominator target)
    ("oip-rest (binary) / MLServer V2 REST", "oip-rest (binary, tritonclient's default)",
     "MLServer V2 REST"),
    ("oip-rest (JSON) / MLServer V2 REST", "oip-rest (JSON, as sent to MLServer)",
     "MLServer V2 REST"),
    ("oip-grpc (raw) / MLServer V2 gRPC (raw)", "oip-grpc (raw, tritonclient's default)",
     "MLServer V2 gRPC (raw)"),
    ("oip-grpc (typed) / MLServer V2 gRPC (typed)", "oip-grpc (typed, as sent to MLServer)",
     "MLServer V2 gRPC (typed)"),
    ("rest / MLServer V2 REST", "rest", "MLServer V2 REST"),
    ("grpc / MLServer V2 gRPC (typed)", "grpc", "MLServer V2 gRPC (typed)"),
    ("oip-rest (binary) / rest", "oip-rest (binary, tritonclient's default)", "rest"),
    ("oip-rest (JSON) / rest", "oip-rest (JSON, as sent to MLServer)", "rest"),
    ("oip-grpc (raw) / grpc", "oip-grpc (raw, tritonclient's default)", "grpc"),
    ("oip-grpc (typed) / grpc", "oip-grpc (typed, as sent to MLServer)", "grpc"),
)  # fmt: skip


def table(all_targets: list[Target]) -> str:
    by_name = {t.name: t for t in all_targets}
    median = {t.name: statistics.median(t.rates) for t in all_targets}
    cpu = {t.name: statistics.median(t.cpu_us) for t in all_targets}
    rows = [
        "| target | req/s (median) | runs | mean latency ms | timeouts | server CPU µs/req |",
        "|---|---|---|---|---|---|",
    ]
    for t in all_targets:
        runs = ", ".join(f"{r:,.0f}" for r in t.rates)
        latency = statistics.median(t.latency_ms)
        rows.append(
            f"| {t.name} | {median[t.name]:,.0f} | {runs} | {latency:.1f} | {t.timeouts} "
            f"| {cpu[t.name]:,.0f} |"
        )
    rows += ["", "| ratio | req/s | inverse of server CPU per request |", "|---|---|---|"]
    for label, top, bottom in RATIOS:
        if top in by_name and bottom in by_name:
            by_rate, by_cpu = median[top] / median[bottom], cpu[bottom] / cpu[top]
            rows.append(f"| {label} | {by_rate:.2f} × | {by_cpu:.2f} × |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=64, help="requests in flight (64)")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per run (6)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds (3)")
    parser.add_argument("--rounds", type=int, default=5, help="runs per target, alternated (5)")
    parser.add_argument("--base-port", type=int, default=24100, help="first port to bind")
    parser.add_argument("--only", default="", help="comma-separated server names to run")
    args = parser.parse_args()
    missing = [tool for tool in ("wrk", "h2load", "taskset") if shutil.which(tool) is None]
    if missing:
        print(f"needs {', '.join(missing)}: apt-get install wrk nghttp2-client util-linux")
        return 2
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        print("needs two cores: one for the servers, one for the drivers")
        return 2
    server_cpu, driver_cpus = str(cpus[0]), ",".join(map(str, cpus[1:]))
    ports = iter(range(args.base_port, args.base_port + 100))
    all_targets = targets()
    if args.only:
        keep = set(args.only.split(","))
        all_targets = [t for t in all_targets if t.server in keep]
    mlserver = ensure_mlserver() if any(t.server == "mlserver" for t in all_targets) else None
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory(prefix="protobench-peers-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        models = workdir / "models"
        ModelRegistry(models).load()  # trained once, before any server starts
        pin = ["taskset", "-c", server_cpu]
        servers = sorted({t.server for t in all_targets})
        processes: dict[str, psutil.Process] = {}
        for server in servers:
            log = workdir / f"{server}.log"
            if server == "mlserver":
                http_port, grpc_port, metrics_port = next(ports), next(ports), next(ports)
                folder = mlserver_folder(workdir / "mlserver", http_port, grpc_port, metrics_port)
                assert mlserver is not None
                processes[server] = stack.enter_context(
                    started([*pin, str(mlserver), "start", str(folder)], log)
                )
                for t in all_targets:
                    if t.server == "mlserver":
                        t.port = grpc_port if t.h2c else http_port
                wait_until(lambda p=http_port: httpx.get(
                    f"http://127.0.0.1:{p}/v2/models/iris/ready", timeout=2).status_code == 200,
                    "MLServer", log)  # fmt: skip
                continue
            port = next(ports)
            command = [*pin, sys.executable, "-m", "protobench.cli", "serve", "--protocol",
                       server, "--port", str(port), "--models-dir", str(models),
                       "--load-first"]  # fmt: skip
            processes[server] = stack.enter_context(started(command, log))
            for t in all_targets:
                if t.server == server:
                    t.port = port
            probe = next(t for t in all_targets if t.server == server)
            wait_until(lambda t=probe: bool(send_once_quiet(t)), server, log)
        for t in all_targets:
            answer = send_once(t)
            if not t.check(answer):
                raise SystemExit(f"{t.name}: the answer is not a prediction: {answer[:300]!r}")
            print(f"checked {t.name}: {len(t.body)} request bytes, {len(answer)} answer bytes")
        for t in all_targets:
            drive(t, args.connections, args.warmup, driver_cpus, workdir)
        for round_ in range(args.rounds):
            for t in all_targets:
                measure(t, processes[t.server], args.connections, args.duration, driver_cpus,
                        workdir)  # fmt: skip
                print(f"round {round_ + 1}: {t.name}: {t.rates[-1]:,.0f} req/s, "
                      f"{t.latency_ms[-1]:.1f} ms, {t.cpu_us[-1]:,.0f} server CPU µs/req",
                      flush=True)  # fmt: skip
    print()
    print(f"{args.connections} in flight, {args.duration:g} s per run, {args.rounds} rounds "
          f"alternated; servers on CPU {server_cpu}, drivers on CPU {driver_cpus}")  # fmt: skip
    print(machine())
    print()
    print(table(all_targets))
    return 0


def send_once_quiet(target: Target) -> bytes:
    try:
        return send_once(target)
    except SystemExit:
        return b""


if __name__ == "__main__":
    sys.exit(main())
