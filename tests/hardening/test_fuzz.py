"""Property-based fuzzing of each protocol from its own schema (tests/hardening/strategies.py).

The property, for every generated request: a success or the caller's error — never a 5xx or
INTERNAL, never a traceback in the answer — and afterwards the server still predicts.

Bounded for CI (a fixed seed, a few hundred requests per protocol); set
PROTOBENCH_FUZZ_PROFILE=long for thousands of random ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients import connect
from protobench.core.settings import Settings
from servers.graphql_server import build_schema
from servers.jsonrpc_methods import METHODS
from tests.hardening import strategies
from tests.hardening.conftest import protocol_params, server_for
from tests.hardening.wire import IRIS_ROW, grpc_call, post, read_http
from tests.support.servers import RunningServer

LONG = os.environ.get("PROTOBENCH_FUZZ_PROFILE") == "long"
FUZZ = settings(
    max_examples=5000 if LONG else 250,
    deadline=None,
    database=None,
    derandomize=not LONG,  # CI runs the same cases every time; the long profile explores
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module", params=protocol_params())
def server(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with server_for(request, models_dir, tmp_path_factory) as s:
        yield s
    # What the server wrote while being fuzzed: only the caller's mistakes, answered, no crash.
    assert "Traceback" not in s.log(), s.log()


def _still_predicts(server: RunningServer) -> None:
    assert server.process.poll() is None, server.log()
    with connect(server.protocol, server.target) as client:
        assert client.predict("iris", [IRIS_ROW]).predictions[0].label == "setosa"


def _http(server: RunningServer) -> httpx.Client:
    return httpx.Client(base_url=f"http://{server.target}", timeout=30.0)


def test_fuzz(server: RunningServer) -> None:
    {"rest": _fuzz_rest, "graphql": _fuzz_graphql, "jsonrpc": _fuzz_jsonrpc,
     "grpc": _fuzz_grpc}[server.protocol](server)  # fmt: skip
    _still_predicts(server)


def _fuzz_rest(server: RunningServer) -> None:
    with _http(server) as http:
        document = http.get("/openapi.json").json()

        @FUZZ
        @given(strategies.rest_requests(document))
        def case(request: strategies.HttpRequest) -> None:
            response = http.request(
                request.method,
                request.url,
                content=request.content,
                headers={"content-type": request.content_type},
            )
            read_http("rest", response).assert_caller_error_at_most(request)

        case()


def _fuzz_graphql(server: RunningServer) -> None:
    settings = Settings(models_dir=Path("unused"))
    schema = build_schema(settings)._schema
    with _http(server) as http:

        @FUZZ
        @given(strategies.graphql_bodies(schema, settings.graphql_max_depth))
        def case(body: bytes) -> None:
            post(http, "graphql", body).assert_caller_error_at_most(body)

        case()


def _fuzz_jsonrpc(server: RunningServer) -> None:
    with _http(server) as http:
        names = [method.name for method in METHODS] + ["rpc.discover"]

        @FUZZ
        @given(strategies.jsonrpc_bodies(names))
        def case(body: bytes) -> None:
            post(http, "jsonrpc", body).assert_caller_error_at_most(body)

        case()


def _fuzz_grpc(server: RunningServer) -> None:
    with grpc.insecure_channel(server.target) as channel:

        @FUZZ
        @given(strategies.grpc_payloads())
        def unary(call: tuple[str, bytes]) -> None:
            grpc_call(channel, *call).assert_caller_error_at_most(call)

        @FUZZ
        @given(st.lists(st.one_of(st.binary(max_size=64),
                                  strategies.mutated(strategies.VALID_REQUESTS["Predict"])),
                        min_size=1, max_size=5))  # fmt: skip
        def stream(messages: list[bytes]) -> None:
            grpc_call(channel, "PredictStream", messages).assert_caller_error_at_most(messages)

        unary()
        stream()
