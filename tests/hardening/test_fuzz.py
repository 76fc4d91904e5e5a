"""Property-based fuzzing of each protocol from its own schema (tests/hardening/strategies.py).

The property, for every generated request: a success or the caller's error — never a 5xx or
INTERNAL, never a traceback in the answer — and afterwards the server still predicts.

A protocol without a schema-driven strategy here is fuzzed through its spec's probe with
garbage bytes and mutations of a valid predict request, so every registered protocol is covered.
Bounded for CI (a fixed seed, a few hundred requests per protocol); set
PROTOBENCH_FUZZ_PROFILE=long for thousands of random ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients import connect
from clients.grpc_client import GrpcProbe
from clients.probe import HttpJsonProbe
from protobench.core.settings import Settings
from servers.graphql_server import build_schema
from servers.jsonrpc_methods import METHODS
from tests.hardening import strategies
from tests.hardening.conftest import server_for
from tests.hardening.wire import IRIS_ROW, Probe, assert_caller_error_at_most, probe_for
from tests.support.protocols import protocol_params
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
    with probe_for(server) as probe:
        SCHEMA_FUZZERS.get(server.protocol, _fuzz_generic)(server, probe)
    _still_predicts(server)


def _fuzz_generic(server: RunningServer, probe: Probe) -> None:
    valid = probe.predict_body([IRIS_ROW])

    @FUZZ
    @given(st.one_of(st.binary(max_size=256), strategies.mutated(valid)))
    def case(body: bytes) -> None:
        assert_caller_error_at_most(probe.send(body), body)

    case()


def _fuzz_rest(server: RunningServer, probe: Probe) -> None:
    assert isinstance(probe, HttpJsonProbe)
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
            assert_caller_error_at_most(probe.read(response), request)

        case()


def _fuzz_graphql(server: RunningServer, probe: Probe) -> None:
    settings = Settings(models_dir=Path("unused"))
    schema = build_schema(settings)._schema

    @FUZZ
    @given(strategies.graphql_bodies(schema, settings.graphql_max_depth))
    def case(body: bytes) -> None:
        assert_caller_error_at_most(probe.send(body), body)

    case()


def _fuzz_jsonrpc(server: RunningServer, probe: Probe) -> None:
    names = [method.name for method in METHODS] + ["rpc.discover"]

    @FUZZ
    @given(strategies.jsonrpc_bodies(names))
    def case(body: bytes) -> None:
        assert_caller_error_at_most(probe.send(body), body)

    case()


def _fuzz_grpc(server: RunningServer, probe: Probe) -> None:
    assert isinstance(probe, GrpcProbe)

    @FUZZ
    @given(strategies.grpc_payloads())
    def unary(call: tuple[str, bytes]) -> None:
        assert_caller_error_at_most(probe.call(*call), call)

    @FUZZ
    @given(st.lists(st.one_of(st.binary(max_size=64),
                              strategies.mutated(strategies.VALID_REQUESTS["Predict"])),
                    min_size=1, max_size=5))  # fmt: skip
    def stream(messages: list[bytes]) -> None:
        assert_caller_error_at_most(probe.stream("PredictStream", messages), messages)

    unary()
    stream()


SCHEMA_FUZZERS: dict[str, Callable[[RunningServer, Probe], None]] = {
    "rest": _fuzz_rest,
    "graphql": _fuzz_graphql,
    "jsonrpc": _fuzz_jsonrpc,
    "grpc": _fuzz_grpc,
}
