"""What GraphQL costs over plain REST for the same prediction, and what each choice buys back.

Runs, side by side in one go, real servers on loopback (each its own process, pinned to CPU 0)
under ``wrk`` (pinned to CPU 1, one thread, closed loop, keep-alive connections):

  rest                the REST adapter (FastAPI, servers/rest_server.py): the baseline
  graphql-nocache     the GraphQL adapter as shipped, but parsing and validating every query
  graphql-strawberry  strawberry by the book: its resolver wrapper, ParserCache,
                      ValidationCache and the limiter extensions
  graphql             the GraphQL adapter as shipped (servers/graphql_*.py)
  graphql-sync        as shipped, but with a synchronous predict resolver

then, in process, the CPU time of one call through each variant's schema (steadier than
load on a shared machine), and the cost of coercing a 1000-row ``[[Float!]!]!`` variable
against an untyped JSON scalar (``graphql-json``, measured only, not shipped).

    flock /tmp/protobench-bench.lock .venv/bin/python benchmarks/graphql_overhead.py

Needs ``wrk`` (``apt-get install wrk``). Takes about 90 s. Numbers go to docs/graphql.md.
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
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.scalars import JSON

from clients import connect
from clients.base import ClientError
from clients.graphql_operations import PREDICT
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.core.types import PredictResponse
from servers.asgi_runner import serve_asgi
from servers.graphql_checks import CACHE_SIZE, CheckedDocuments, DocumentChecks
from servers.graphql_schema import (
    Context,
    Info,
    Mutation,
    PredictResponseType,
    Query,
    bind_resolvers,
    root_field,
    wants_probabilities,
)
from servers.graphql_server import GraphQLApp, ProtobenchSchema, build_schema
from servers.listen import Listen

ROW = [5.1, 3.5, 1.4, 0.2]
BATCH = [ROW] * 1000
JSON_HEADERS = {"content-type": "application/json"}
LABEL_ONLY = """
query PredictLabel($model: String!, $instances: [[Float!]!]!) {
  predict(model: $model, instances: $instances) { predictions { label } }
}
"""


@strawberry.type
class SyncPredictQuery(Query):
    @root_field(PredictResponseType, "predict, resolved synchronously")
    def predict(  # type: ignore[override]
        self, info: Info, model: str, instances: list[list[float]], version: str | None = None
    ) -> PredictResponse:
        return info.context.service.predict(
            model, instances, version, probabilities=wants_probabilities(info)
        )


@strawberry.type
class WrappedPredictQuery(Query):
    """predict as a strawberry resolver: it gets a strawberry.Info, so it asks it."""

    @root_field(PredictResponseType, "predict, through strawberry's resolver wrapper")
    async def predict(
        self, info: Info, model: str, instances: list[list[float]], version: str | None = None
    ) -> PredictResponse:
        def selects(selections: list[Any]) -> bool:
            return any(s.name == "probabilities" or selects(s.selections) for s in selections)

        return await info.context.service.apredict(
            model, instances, version, probabilities=selects(info.selected_fields)
        )


@strawberry.type
class JsonInstancesQuery(Query):
    """NOT shipped: ``instances`` as an untyped JSON scalar, to price graphql-core's coercion."""

    @root_field(PredictResponseType, "predict, instances untyped")
    async def predict(  # type: ignore[override]
        self, info: Info, model: str, instances: JSON, version: str | None = None
    ) -> PredictResponse:
        rows = cast(list[list[float]], instances)  # whatever JSON came: the core checks it
        return await info.context.service.apredict(
            model, rows, version, probabilities=wants_probabilities(info)
        )


def strawberry_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    rules = [
        *QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
    ]
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ParserCache(CACHE_SIZE),
        lambda: ValidationCache(CACHE_SIZE),
    ]


def schema_of(variant: str, settings: Settings) -> strawberry.Schema:
    if variant == "graphql-nocache":
        return build_schema(settings, cache_size=0)
    if variant == "graphql-strawberry":
        return ProtobenchSchema(
            query=WrappedPredictQuery, mutation=Mutation, extensions=strawberry_extensions(settings)
        )
    if variant in ("graphql-sync", "graphql-json"):
        documents = CheckedDocuments(settings)
        schema = ProtobenchSchema(
            query=SyncPredictQuery if variant == "graphql-sync" else JsonInstancesQuery,
            mutation=Mutation,
            extensions=[lambda: DocumentChecks(documents)],
        )
        bind_resolvers(schema)
        return schema
    return build_schema(settings)


def _app(variant: str, service: InferenceService) -> Any:
    if variant == "rest":
        from servers.rest_server import create_app as create_rest_app

        return create_rest_app(service)
    schema = schema_of(variant, service.settings)
    return GraphQLApp(schema, Context(service))


# -- servers --------------------------------------------------------------------------------


@dataclass
class Server:
    variant: str
    port: int

    @property
    def protocol(self) -> str:
        return "rest" if self.variant == "rest" else "graphql"


@contextmanager
def running(variant: str, workdir: Path) -> Iterator[Server]:
    port_file = workdir / f"{variant}.port"
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    command = [*pin, sys.executable, __file__, "--serve", variant, "--port-file", str(port_file)]
    process = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {variant} server did not start")
            time.sleep(0.05)
        server = Server(variant, int(port_file.read_text()))
        _wait_ready(server, deadline)
        yield server
    finally:
        process.terminate()
        process.wait(15)


def _wait_ready(server: Server, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with connect(server.protocol, f"127.0.0.1:{server.port}") as client:  # type: ignore[arg-type]
                if client.health().ready:
                    return
        except ClientError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the {server.variant} server is not ready")


# -- load -----------------------------------------------------------------------------------


@dataclass
class Result:
    variant: str
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _request(server: Server, rows: list[list[float]], document: str) -> tuple[str, bytes]:
    if server.variant == "rest":
        return "/models/iris/predict", json.dumps({"instances": rows}).encode()
    variables = {"model": "iris", "instances": rows}
    return "/graphql", json.dumps({"query": document, "variables": variables}).encode()


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(server: Server, scenario: str, spec: Load) -> Result:
    path, body = _request(server, spec.rows, spec.document)
    answer = httpx.post(f"http://127.0.0.1:{server.port}{path}", content=body, headers=JSON_HEADERS)
    if answer.status_code != 200 or b'"errors"' in answer.content:
        raise RuntimeError(f"{server.variant} refused the {scenario!r} request: {answer.text}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = [==[{body.decode()}]==]\n"
        )
    url = f"http://127.0.0.1:{server.port}{path}"
    pin = ["taskset", "-c", "1"] if shutil.which("taskset") else []
    wrk = [*pin, "wrk", "-t1", f"-c{spec.connections}", "--latency", "--timeout", "5s", "-s"]
    subprocess.run([*wrk, script.name, "-d1s", url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(
        [*wrk, script.name, f"-d{DURATION_S}s", url], capture_output=True, text=True, check=True
    ).stdout
    Path(script.name).unlink()
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    return Result(
        server.variant,
        scenario,
        float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        _ms(latency["50"]),
        _ms(latency["99"]),
        int(errors.group(1) if errors else 0) + int(timeouts.group(1) if timeouts else 0),
    )


@dataclass(frozen=True)
class Load:
    rows: list[list[float]]
    document: str
    connections: int
    variants: tuple[str, ...]


DURATION_S = 5
ROUNDS = 10
VARIANTS = ("rest", "graphql-nocache", "graphql-strawberry", "graphql", "graphql-sync")
SCENARIOS: dict[str, Load] = {
    "1 row": Load([ROW], PREDICT.document, 32, VARIANTS),
    "1 row, label only": Load([ROW], LABEL_ONLY, 32, ("graphql", "graphql-strawberry")),
    "1000 rows": Load(BATCH, PREDICT.document, 4, ("rest", "graphql")),
}


# -- in process: CPU time per call --------------------------------------------------------


async def _cpu_us(calls: dict[str, Callable[[], Awaitable[object]]], n: int) -> dict[str, float]:
    """Interleaved rounds, the best round per call: CPU time resists the neighbours' load."""
    best = dict.fromkeys(calls, float("inf"))
    for call in calls.values():
        await call()
    for _ in range(ROUNDS):
        for name, call in calls.items():
            start = time.process_time()
            for _ in range(n):
                await call()
            best[name] = min(best[name], (time.process_time() - start) / n * 1e6)
    return best


def _execute(
    schema: strawberry.Schema, document: str, rows: list[list[float]], context: Context
) -> Callable[[], Awaitable[object]]:
    variables = {"model": "iris", "instances": rows}

    async def call() -> object:
        result = await schema.execute(document, variables, context_value=context)
        assert not result.errors, result.errors
        return result

    return call


async def in_process() -> dict[str, float]:
    from servers.rest_server import PredictBody

    service = InferenceService(Settings())
    service.load()
    context = Context(service)
    schemas = {v: schema_of(v, service.settings) for v in VARIANTS if v != "rest"}

    async def core_one() -> object:
        return await service.apredict("iris", [ROW])

    async def core_batch() -> object:
        return await service.apredict("iris", BATCH)

    async def rest_validation() -> object:
        return PredictBody.model_validate({"instances": BATCH})

    shipped = schemas["graphql"]
    one_row = {"core apredict, 1 row (no protocol)": core_one} | {
        f"{v}, 1 row": _execute(schema, PREDICT.document, [ROW], context)
        for v, schema in schemas.items()
    }
    one_row["graphql, 1 row, labels only"] = _execute(shipped, LABEL_ONLY, [ROW], context)
    batch = {
        "core apredict, 1000 rows (no protocol)": core_batch,
        "REST body validation (pydantic), 1000 rows": rest_validation,
        "graphql, 1000 rows, labels only": _execute(shipped, LABEL_ONLY, BATCH, context),
        "graphql, 1000 rows, with probabilities": _execute(
            shipped, PREDICT.document, BATCH, context
        ),
        "graphql-json (not shipped), 1000 rows, labels only": _execute(
            schema_of("graphql-json", service.settings),
            LABEL_ONLY.replace("[[Float!]!]!", "JSON!"),
            BATCH,
            context,
        ),
    }
    return await _cpu_us(one_row, 200) | await _cpu_us(batch, 3)


# -- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        service = InferenceService(Settings())
        serve_asgi(_app(args.serve, service), args.serve, service, Listen(port_file=args.port_file))
        return
    if not shutil.which("wrk"):
        raise SystemExit("this benchmark drives wrk: apt-get install wrk")

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant in VARIANTS:
            with running(variant, Path(tmp)) as server:
                for scenario, scenario_load in SCENARIOS.items():
                    if variant in scenario_load.variants:
                        results.append(load(server, scenario, scenario_load))

    print(f"\nwrk, 1 thread, keep-alive connections, {DURATION_S} s per row")
    columns = "{:<20} {:<16} {:>5} {:>8} {:>8} {:>8} {:>6}"
    print(columns.format("scenario", "server", "conns", "req/s", "p50 ms", "p99 ms", "errors"))
    for r in sorted(results, key=lambda r: list(SCENARIOS).index(r.scenario)):
        connections = SCENARIOS[r.scenario].connections
        print(
            columns.format(
                r.scenario,
                r.variant,
                connections,
                f"{r.rps:.0f}",
                f"{r.p50_ms:.2f}",
                f"{r.p99_ms:.2f}",
                r.errors,
            )
        )
    print("\nin process, CPU time per call (best of interleaved rounds)")
    for name, us in asyncio.run(in_process()).items():
        print(f"{name:<50} {us:>9.0f} us")


if __name__ == "__main__":
    main()
