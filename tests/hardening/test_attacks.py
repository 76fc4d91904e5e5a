"""issue 21's (and issue 20's) reproducers that apply to every protocol, each on real servers
with the default settings: the same bad value gets the same row of the error table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clients import connect
from clients.base import ClientError
from protobench.core.errors import ErrorCode
from protobench.error_table import HTTP_MALFORMED_BODY
from protobench.protocols import spec
from tests.hardening.conftest import server_for
from tests.hardening.wire import IRIS_ROW, probe_for
from tests.support.protocols import protocol_params
from tests.support.servers import RunningServer

BEYOND_INT64 = 2**63  # SQLite raised OverflowError: a 500 on REST, -32603 on JSON-RPC


@pytest.fixture(scope="module", params=protocol_params())
def server(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with server_for(request, models_dir, tmp_path_factory) as running:
        yield running


def _page(server: RunningServer, limit: int, offset: int) -> ErrorCode | None:
    with connect(server.protocol, server.target) as client:
        try:
            client.list_predictions("nojob", limit, offset)
        except ClientError as exc:
            return exc.code
        except (ValueError, OverflowError, TypeError) as exc:  # the client cannot encode it
            pytest.skip(f"{server.protocol}'s client cannot carry {offset}: {exc}")
    return None


@pytest.mark.parametrize(("limit", "offset"), [(10, BEYOND_INT64), (10, -1), (0, 0), (1001, 0)])
def test_a_page_out_of_range_is_invalid_input(
    server: RunningServer, limit: int, offset: int
) -> None:
    assert _page(server, limit, offset) == ErrorCode.INVALID_INPUT
    assert "Traceback" not in server.log()


def test_the_largest_offset_is_served(server: RunningServer) -> None:
    if server.protocol == "graphql":
        pytest.skip("GraphQL's Int is 32 bits: graphql-core refuses more as INVALID_INPUT")
    assert _page(server, 1000, 2**63 - 1) in (None, ErrorCode.NOT_FOUND)


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999"])
def test_a_non_finite_number_gets_the_tables_invalid_input(
    server: RunningServer, number: bytes
) -> None:
    """issue 20: JSON-RPC said -32700 (parse error) and GraphQL HTTP 400 where REST said 422."""
    with probe_for(server) as probe:
        if probe.body_format != "json":
            pytest.skip("not a JSON body (protobuf doubles: see test_limits.py)")
        body = probe.predict_body([[0.0, *IRIS_ROW[1:]]]).replace(b"0.0", number, 1)
        verdict = probe.send(body)
    assert verdict.errors == [ErrorCode.INVALID_INPUT], verdict
    row_code = str(spec(server.protocol).errors.code(ErrorCode.INVALID_INPUT))
    if row_code != str(HTTP_MALFORMED_BODY):
        assert verdict.status != HTTP_MALFORMED_BODY, verdict  # not refused as unreadable
    else:  # the row says it with 400 too (OIP REST): the core's own check must be the one
        assert "finite" in verdict.text, verdict
    # 422 as the status (REST), -32602 or INVALID_INPUT in the body (JSON-RPC, GraphQL)
    assert row_code == str(verdict.status) or row_code in verdict.text, verdict
