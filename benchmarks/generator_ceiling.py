"""The load generator's own ceiling, per protocol, against servers that do nothing.

Every driver sends the iris Predict the load tests send (one instance) to a server that answers
with a fixed, well-formed reply without reading the request, so the rate is the driver's limit
(or the server's, when its CPU share says it saturated first). Side by side, in one run:

  nginx, HTTP/1.1   wrk; Locust RestUser, JsonRpcUser, GraphQLUser (loadtests/users.py, built on
                    the real clients, which parse the fixed reply); Locust's own FastHttpUser and
                    HttpUser posting the REST body, as reference lines
  nginx, gRPC       h2load; Locust GrpcUser. nginx speaks HTTP/2 without TLS and answers every
                    Predict with a prerecorded gRPC message and a ``grpc-status: 0`` trailer
  grpcio, gRPC      h2load; Locust GrpcUser against a trivial ``grpc.aio`` server (a generic
                    handler returning a fixed serialized PredictResponse, no model)
  protobench        every protocol's Locust user against one real replica (servers/launcher.py,
                    iris model), with wrk (REST) and h2load (gRPC) as references: the driver's
                    CPU µs per request beside the server's, and their ratio (goal: ≤ 0.5)
                    (``--replicas-only`` runs just these rows)

The server runs on CPU 0 and every driver on CPU 1. Each driver is a closed loop with the same
number of requests in flight (one Locust process with N users, ``wrk -t1 -cN``,
``h2load -t1 -cN -m1``); after a warm-up, the server's own request counter gives the rate over
a measured window and psutil the CPU seconds of both sides in that window. Since other
programs may share the cores, each row also gives req/s ÷ the driver's CPU share: its rate on a
core of its own, were it the limit (an estimate; exact only for a driver that is CPU-bound).

    flock /tmp/protobench-bench.lock .venv/bin/python benchmarks/generator_ceiling.py

Needs nginx, wrk and h2load (``apt-get install nginx wrk nghttp2-client``); about 8 minutes
(``--replicas-only``: about 6).
Numbers go to docs/loadtests.md.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import grpc
import orjson

from clients import connect
from loadtests.cpu import CpuWindow
from protobench.core.types import Prediction, PredictResponse
from protobench.proto_convert import predict_request_to_pb, predict_response_to_pb
from protobench.protocols import PROTOCOLS, Protocol, spec
from servers.launcher import Cluster, launch

MEASURED_PROTOCOLS: tuple[Protocol, ...] = PROTOCOLS  # every registered protocol
IRIS_ROW = [5.9, 3.0, 5.1, 1.8]  # the row loadtests/workload.py sends for the iris payload
REST_PATH = "/models/iris/predict"
GRPC_SERVICE = "protobench.v1.InferenceService"
GRPC_PREDICT_PATH = f"/{GRPC_SERVICE}/Predict"
COUNTER_SERVICE = "protobench.bench.Counter"  # the trivial gRPC server's request count
SERVER_CPU, GENERATOR_CPU = 0, 1
PINNED = {SERVER_CPU, GENERATOR_CPU} <= os.sched_getaffinity(0)
LOCUSTFILE = Path(__file__).resolve().parents[1] / "loadtests" / "locustfile.py"
START_TIMEOUT_S = 30.0

# Locust's own HTTP users, for reference: the same POST, no protobench client behind it.
REFERENCE_LOCUSTFILE = """\
from locust import FastHttpUser, HttpUser, constant, task

BODY = {body!r}
HEADERS = {{"content-type": "application/json"}}


class FastHttpPost(FastHttpUser):
    wait_time = constant(0)

    @task
    def predict(self):
        self.client.post({path!r}, data=BODY, headers=HEADERS)


class HttpPost(HttpUser):
    wait_time = constant(0)

    @task
    def predict(self):
        self.client.post({path!r}, data=BODY, headers=HEADERS)
"""

NGINX_CONF = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path {dir}/body;
  server {{
    listen 127.0.0.1:{http_port};
    location = /status {{ stub_status; }}
{http_locations}
  }}
  server {{
    listen 127.0.0.1:{grpc_port} http2;
    location = {grpc_path} {{
      root {dir}/root;
      default_type application/grpc;
      add_trailer grpc-status 0 always;
      error_page 405 =200 $uri;  # POST to a static file: answer it as if it were a GET
    }}
  }}
}}
"""


# -- what the servers answer -------------------------------------------------------------------


def fixed_prediction() -> PredictResponse:
    prediction = Prediction(label="virginica", probabilities=[0.0, 0.02, 0.98])
    return PredictResponse(model="iris", version="1", served_by="fixed", predictions=[prediction])


def http_replies() -> dict[str, bytes]:
    """Per nginx location, the body the matching client parses as a successful predict."""
    result = fixed_prediction().model_dump(mode="json")
    return {
        "/graphql": orjson.dumps({"data": {"predict": result}}),
        "/jsonrpc": orjson.dumps({"jsonrpc": "2.0", "result": result, "id": 1}),
        "/": orjson.dumps(result),
    }


def grpc_frame(message: bytes) -> bytes:
    """gRPC's length-prefixed message: uncompressed flag, 4-byte big-endian length, bytes."""
    return struct.pack(">BI", 0, len(message)) + message


def grpc_reply() -> bytes:
    return predict_response_to_pb(fixed_prediction()).SerializeToString()


def grpc_request() -> bytes:
    return predict_request_to_pb("iris", [IRIS_ROW]).SerializeToString()


def rest_request() -> bytes:
    return orjson.dumps({"instances": [IRIS_ROW]})


# -- the servers, on CPU 0 ---------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    name: str
    pids: list[int]
    count: Callable[[], int]  # requests answered so far, the counter's own queries left out


def _pin(cpu: int) -> Callable[[], None] | None:
    return (lambda: os.sched_setaffinity(0, {cpu})) if PINNED else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


class StubStatus:
    """nginx's total request count (stub_status), less the status requests themselves."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/status"
        self.polls = 0

    def __call__(self) -> int:
        self.polls += 1
        with urllib.request.urlopen(self.url, timeout=5) as answer:
            text = answer.read().decode()
        match = re.search(r"^\s*\d+ \d+ (\d+)\s*$", text, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"not a stub_status page: {text!r}")
        return int(match[1]) - self.polls

    def ready(self) -> bool:
        try:
            self()
        except OSError:
            return False
        return True


@contextmanager
def nginx(workdir: Path) -> Iterator[tuple[Server, str, str]]:
    """One nginx worker; yields it with its HTTP/1.1 and its gRPC (h2c) address."""
    folder = workdir / "nginx"
    (folder / "root" / GRPC_SERVICE).mkdir(parents=True)
    (folder / "root" / GRPC_SERVICE / "Predict").write_bytes(grpc_frame(grpc_reply()))
    for path in (workdir, folder, folder / "root", folder / "root" / GRPC_SERVICE):
        path.chmod(0o755)  # the worker may run as another user (nobody, when started as root)
    locations = "\n".join(
        f"    location {'' if path == '/' else '= '}{path} "
        f"{{ default_type application/json; return 200 '{body.decode()}'; }}"
        for path, body in http_replies().items()
    )
    http_port, grpc_port = _free_port(), _free_port()
    conf = folder / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            dir=folder,
            http_port=http_port,
            grpc_port=grpc_port,
            http_locations=locations,
            grpc_path=GRPC_PREDICT_PATH,
        )
    )
    command = ["nginx", "-p", str(folder), "-c", str(conf), "-g", "daemon off;"]
    with (folder / "nginx.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log, preexec_fn=_pin(SERVER_CPU))
    try:
        counter = StubStatus(http_port)
        _wait_until(counter.ready, process, "nginx")
        pids = [process.pid]  # the master; CpuWindow adds its worker
        yield Server("nginx", pids, counter), f"127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}"
    finally:
        _stop(process)


async def serve_fixed_grpc(port_file: Path) -> None:
    """The trivial gRPC server (a child process): Predict answers a fixed message unread."""
    reply = grpc_reply()
    answered = 0

    async def predict(request: bytes, context: Any) -> bytes:
        nonlocal answered
        answered += 1
        return reply

    async def count(request: bytes, context: Any) -> bytes:
        return str(answered).encode()

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                GRPC_SERVICE, {"Predict": grpc.unary_unary_rpc_method_handler(predict)}
            ),
            grpc.method_handlers_generic_handler(
                COUNTER_SERVICE, {"Get": grpc.unary_unary_rpc_method_handler(count)}
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    port_file.write_text(str(port))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(0.5)


@contextmanager
def fixed_grpc_server(workdir: Path) -> Iterator[tuple[Server, str]]:
    port_file = workdir / "grpcio.port"
    command = [sys.executable, __file__, "--serve-grpc", str(port_file)]
    process = subprocess.Popen(command, preexec_fn=_pin(SERVER_CPU))
    try:
        _wait_until(port_file.exists, process, "the grpcio server")
        address = f"127.0.0.1:{port_file.read_text()}"
        with grpc.insecure_channel(address) as channel:
            get = channel.unary_unary(f"/{COUNTER_SERVICE}/Get", None, None)
            yield Server("grpcio", [process.pid], lambda: int(get(b"", timeout=5))), address
    finally:
        _stop(process)


def check_replies(targets: dict[Protocol, str]) -> None:
    """One call per protocol through the real client: the fixed replies must parse."""
    for protocol, target in targets.items():
        with connect(protocol, target) as client:
            label = client.predict("iris", [IRIS_ROW]).predictions[0].label
        if label != "virginica":
            raise RuntimeError(f"{protocol} at {target}: the fixed reply did not parse")


# -- the drivers, on CPU 1 ---------------------------------------------------------------------


@dataclass(frozen=True)
class Driver:
    name: str
    protocol: str
    command: list[str]
    errors: Callable[[str], int]  # failed requests, from the driver's output (or files)
    stopped_by_signal: bool = False  # else it stops by itself just after the window


@dataclass(frozen=True)
class Timing:
    users: int  # requests in flight (connections, Locust users)
    warmup_s: float
    duration_s: float

    @property
    def run_s(self) -> int:
        """How long wrk and h2load run: warm-up, window, and slack for a slow start (the window
        opens only once the server has counted their first request)."""
        return math.ceil(self.warmup_s + self.duration_s + 10)


def wrk(url: str, timing: Timing, workdir: Path) -> Driver:
    script = workdir / "post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = '{rest_request().decode()}'\n"
    )
    command = ["wrk", "-t1", f"-c{timing.users}", f"-d{timing.run_s}s", "--timeout", "5s",
               "-s", str(script), f"http://{url}{REST_PATH}"]  # fmt: skip

    def errors(output: str) -> int:
        counts = re.findall(r"(?:connect|read|write|timeout) (\d+)", output)
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        return sum(map(int, counts)) + (int(non_2xx[1]) if non_2xx else 0)

    return Driver("wrk", "HTTP", command, errors)


def h2load(address: str, timing: Timing, workdir: Path) -> Driver:
    data = workdir / "predict.grpc"
    data.write_bytes(grpc_frame(grpc_request()))
    command = ["h2load", "--threads=1", f"--clients={timing.users}",
               "--max-concurrent-streams=1", f"--duration={timing.run_s}", f"--data={data}",
               "--header=content-type: application/grpc", "--header=te: trailers",
               f"http://{address}{GRPC_PREDICT_PATH}"]  # fmt: skip

    def errors(output: str) -> int:
        match = re.search(r"(\d+) failed, (\d+) errored, (\d+) timeout", output)
        if match is None:
            raise RuntimeError(f"cannot read h2load's output:\n{output[-2000:]}")
        return int(match[1]) + int(match[2]) + int(match[3])

    return Driver("h2load", "gRPC", command, errors)


def locust(user: str, protocol: str, host: str, locustfile: Path, timing: Timing,
           workdir: Path) -> Driver:  # fmt: skip
    """One headless Locust process (the way ``protobench bench`` starts one), stopped with
    SIGTERM after the window (it still writes its CSVs); its own ``-t`` is only a backstop."""
    prefix = workdir / f"locust-{user}-{host.rpartition(':')[2]}"
    command = [sys.executable, "-m", "locust", "-f", str(locustfile), user,
               "--headless", "--only-summary", "--loglevel", "WARNING",
               "-u", str(timing.users), "-r", str(timing.users), "-t", f"{timing.run_s + 60}s",
               "--stop-timeout", "1", "--host", host, "--csv", str(prefix)]  # fmt: skip

    def errors(_: str) -> int:
        with Path(f"{prefix}_stats.csv").open() as stats:
            total = [row for row in csv.DictReader(stats) if row["Name"] == "Aggregated"]
        return int(total[0]["Failure Count"]) if total else 0

    return Driver(f"Locust {user}", protocol, command, errors, stopped_by_signal=True)


# -- one measurement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    server: str
    driver: str
    protocol: str
    requests_per_s: float
    generator_cpu_s: float  # CPU seconds in the window
    server_cpu_s: float
    window_s: float
    errors: int
    reference: Row | None = None  # wrk or h2load on the same server

    @property
    def generator_share(self) -> float:
        """CPU seconds / wall seconds (1.0: the driver's core is full)."""
        return self.generator_cpu_s / self.window_s

    @property
    def server_share(self) -> float:
        return self.server_cpu_s / self.window_s

    @property
    def generator_us(self) -> float:
        """The driver's CPU µs per request answered in the window."""
        return self.generator_cpu_s / max(self.requests_per_s * self.window_s, 1e-9) * 1e6

    @property
    def server_us(self) -> float:
        return self.server_cpu_s / max(self.requests_per_s * self.window_s, 1e-9) * 1e6

    @property
    def per_generator_core(self) -> float:
        """req/s ÷ the driver's CPU share: its rate on a core of its own, were it the limit."""
        return self.requests_per_s / max(self.generator_share, 1e-9)


def measure(driver: Driver, server: Server, timing: Timing, workdir: Path) -> Row:
    slug = re.sub(r"\W+", "-", driver.name)
    log_path = workdir / f"{slug}-{server.name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(driver.command, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=workdir, preexec_fn=_pin(GENERATOR_CPU))  # fmt: skip
    try:
        baseline = server.count()
        _wait_until(lambda: server.count() > baseline, process, driver.name)
        time.sleep(timing.warmup_s)
        generator, served = CpuWindow([process.pid]), CpuWindow(server.pids)
        before = server.count()
        generator.start()
        served.start()
        started = time.monotonic()
        time.sleep(timing.duration_s)
        after = server.count()
        elapsed = time.monotonic() - started
        generator_s, server_s = generator.stop().total_s, served.stop().total_s
        ran_through = process.poll() is None
        if driver.stopped_by_signal:
            process.terminate()
        process.wait(timing.run_s + START_TIMEOUT_S)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{driver.name}: {exc}\n{_tail(log_path)}") from None
    finally:
        if process.poll() is None:
            _stop(process)
    if not ran_through or process.returncode not in (0, 1, -signal.SIGTERM):
        # Locust exits with 1 when a request failed: counted below, not a crash.
        raise RuntimeError(
            f"{driver.name} stopped early (exit {process.returncode}):\n{_tail(log_path)}"
        )
    errors = driver.errors(log_path.read_text(errors="replace"))
    row = Row(server.name, driver.name, driver.protocol, (after - before) / elapsed,
              generator_s, server_s, elapsed, errors)  # fmt: skip
    print(f"  {row.server:>6} · {row.driver}: {row.requests_per_s:,.0f} req/s", file=sys.stderr)
    return row


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def measure_group(drivers: list[Driver], server: Server, timing: Timing,
                  workdir: Path) -> list[Row]:  # fmt: skip
    """The first driver is the reference (wrk or h2load) the others are compared with."""
    rows = [measure(driver, server, timing, workdir) for driver in drivers]
    return [replace(row, reference=rows[0]) for row in rows]


def run(timing: Timing, workdir: Path) -> list[Row]:
    reference_file = workdir / "reference_users.py"
    reference_file.write_text(REFERENCE_LOCUSTFILE.format(body=rest_request(), path=REST_PATH))
    rows: list[Row] = []
    with nginx(workdir) as (server, http, h2c):
        check_replies({"rest": http, "jsonrpc": http, "graphql": http, "grpc": h2c})
        http_drivers = [
            wrk(http, timing, workdir),
            locust("RestUser", "rest", http, LOCUSTFILE, timing, workdir),
            locust("JsonRpcUser", "jsonrpc", http, LOCUSTFILE, timing, workdir),
            locust("GraphQLUser", "graphql", http, LOCUSTFILE, timing, workdir),
            locust("FastHttpPost", "HTTP", f"http://{http}", reference_file, timing, workdir),
            locust("HttpPost", "HTTP", f"http://{http}", reference_file, timing, workdir),
        ]
        rows += measure_group(http_drivers, server, timing, workdir)
        grpc_drivers = [
            h2load(h2c, timing, workdir),
            locust("GrpcUser", "grpc", h2c, LOCUSTFILE, timing, workdir),
        ]
        rows += measure_group(grpc_drivers, server, timing, workdir)
    with fixed_grpc_server(workdir) as (server, address):
        check_replies({"grpc": address})
        grpc_drivers = [
            h2load(address, timing, workdir),
            locust("GrpcUser", "grpc", address, LOCUSTFILE, timing, workdir),
        ]
        rows += measure_group(grpc_drivers, server, timing, workdir)
    return rows


def _counter(cluster: Cluster) -> Callable[[], int]:
    return lambda: sum(cluster.request_counts().values())


def model_servers(timing: Timing, workdir: Path, protocols: tuple[Protocol, ...]) -> list[Row]:
    """The bench's own question: each protocol's Locust user against one real replica (the iris
    model), generator CPU per request beside the server's; wrk and h2load as references."""
    rows: list[Row] = []
    references: dict[Protocol, Callable[[str, Timing, Path], Driver]] = {
        "rest": wrk,
        "grpc": h2load,
    }
    for protocol in protocols:
        cpus = [SERVER_CPU] if PINNED else None
        with launch(protocol, workdir=workdir / protocol, cpus=cpus) as cluster:
            server = Server(
                f"protobench {protocol}",
                [replica.pid for replica in cluster.replicas],
                _counter(cluster),
            )
            target = cluster.target
            user = spec(protocol).locust_user
            drivers = [locust(user, protocol, target, LOCUSTFILE, timing, workdir)]
            if protocol in references:
                drivers.insert(0, references[protocol](target, timing, workdir))
            rows += measure_group(drivers, server, timing, workdir)
    return rows


# -- the report --------------------------------------------------------------------------------


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return "unknown CPU"


def print_report(rows: list[Row], timing: Timing, load_average: float) -> None:
    pinning = (
        f"server on CPU {SERVER_CPU}, driver on CPU {GENERATOR_CPU}" if PINNED else "not pinned"
    )
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M %Z')} · {cpu_model()}, {os.cpu_count()} cores · "
        f"load average {load_average:.1f} at the start · {pinning} · "
        f"{timing.users} requests in flight · {timing.warmup_s:g} s warm-up, "
        f"{timing.duration_s:g} s measured · nginx {_tool_version(['nginx', '-v'])}, "
        f"wrk {_tool_version(['wrk', '-v'])}, h2load {_tool_version(['h2load', '--version'])}, "
        f"locust {version('locust')}, grpcio {version('grpcio')}, httpx {version('httpx')}\n"
    )
    print("| server | driver | protocol | req/s | driver CPU | server CPU | req/s per driver core "
          "| ÷ reference: req/s | ÷ reference: per core | driver µs/req | server µs/req "
          "| driver ÷ server | errors |")  # fmt: skip
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        ref = r.reference or r
        print(
            f"| {r.server} | {r.driver} | {r.protocol} | {r.requests_per_s:,.0f} "
            f"| {100 * r.generator_share:.0f} % | {100 * r.server_share:.0f} % "
            f"| {r.per_generator_core:,.0f} | {r.requests_per_s / ref.requests_per_s:.3f} "
            f"| {r.per_generator_core / ref.per_generator_core:.3f} "
            f"| {r.generator_us:,.0f} | {r.server_us:,.0f} "
            f"| {r.generator_us / r.server_us:.2f} | {r.errors} |"
        )


def _tool_version(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", result.stdout + result.stderr)
    return match[1] if match else "?"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run it under flock /tmp/protobench-bench.lock on a shared machine.",
    )
    parser.add_argument(
        "--users",
        type=int,
        default=16,
        help="requests in flight: Locust users, wrk/h2load connections (16)",
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring (2)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds measured (5)")
    parser.add_argument(
        "--protocols",
        type=lambda text: tuple(p for p in text.split(",") if p),
        default=MEASURED_PROTOCOLS,
        help="protocols whose Locust user meets one real replica (all registered ones)",
    )
    parser.add_argument(
        "--replicas-only",
        action="store_true",
        help="only the Locust users against one real replica of each protocol (no nginx rows)",
    )
    parser.add_argument("--serve-grpc", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_grpc:
        asyncio.run(serve_fixed_grpc(args.serve_grpc))
        return 0
    missing = [tool for tool in ("nginx", "wrk", "h2load") if shutil.which(tool) is None]
    if missing:
        print(f"missing: {', '.join(missing)} (apt-get install nginx wrk nghttp2-client)",
              file=sys.stderr)  # fmt: skip
        return 2
    timing = Timing(args.users, args.warmup, args.duration)
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="generator-ceiling-") as tmp:
        workdir = Path(tmp)
        rows = [] if args.replicas_only else run(timing, workdir)
        print_report(rows + model_servers(timing, workdir, args.protocols), timing, load_average)
    return 0


if __name__ == "__main__":
    sys.exit(main())
