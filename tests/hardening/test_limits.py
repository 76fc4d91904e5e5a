"""The classic killers, on every protocol they apply to: a body at and over the size limit,
a batch at and over its limit, 150,000-deep JSON, an image bomb, NaN and infinity, and finite
numbers too large for the model.

Each answer is a client error from the error table (TOO_LARGE for every size limit), never a
5xx or INTERNAL, with no traceback; and the server still predicts afterwards.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from clients import connect
from clients.base import ClientError
from clients.grpc_client import GrpcProbe
from clients.jsonrpc_client import JsonRpcClient
from protobench.core.errors import ErrorCode
from tests.hardening.conftest import server_for
from tests.hardening.wire import IRIS_ROW, Probe, Verdict, assert_caller_error_at_most, probe_for
from tests.support.protocols import protocol_params
from tests.support.servers import RunningServer

MAX_BODY = 512 * 1024  # room for the 300 kB nested body
MAX_BATCH = 64
JSONRPC_MAX_BATCH = 8
LIMITS = {
    "PROTOBENCH_MAX_BODY_BYTES": str(MAX_BODY),
    "PROTOBENCH_MAX_BATCH": str(MAX_BATCH),
    "PROTOBENCH_JSONRPC_MAX_BATCH": str(JSONRPC_MAX_BATCH),
}
DEPTH = 150_000


@pytest.fixture(scope="module", params=protocol_params())
def server(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with server_for(request, models_dir, tmp_path_factory, LIMITS) as running:
        yield running


@pytest.fixture(autouse=True)
def still_predicts(server: RunningServer) -> Iterator[None]:
    """After every case: the server is alive and answers a normal prediction."""
    yield
    assert server.process.poll() is None, server.log()
    with connect(server.protocol, server.target) as client:
        assert client.predict("iris", [IRIS_ROW]).predictions[0].label == "setosa"


@pytest.fixture
def probe(server: RunningServer) -> Iterator[Probe]:
    with probe_for(server) as probe:
        yield probe


@pytest.fixture
def json_probe(probe: Probe) -> Probe:
    if probe.body_format != "json":
        pytest.skip(f"a JSON body case; this protocol sends {probe.body_format}")
    return probe


def _refused(verdict: Verdict, code: ErrorCode) -> None:
    assert_caller_error_at_most(verdict)
    assert verdict.errors and set(verdict.errors) == {code}, verdict


def test_body_at_the_limit_is_served_one_byte_over_is_too_large(probe: Probe) -> None:
    at_limit = probe.send(probe.padded(MAX_BODY))
    assert at_limit.ok, at_limit
    _refused(probe.send(probe.padded(MAX_BODY + 1)), ErrorCode.TOO_LARGE)


def test_streamed_body_over_the_limit_is_too_large(probe: Probe) -> None:
    if not probe.streams_bodies:
        pytest.skip("this protocol's requests always carry their length")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server has to count
        for _ in range(MAX_BODY // 4096 + 2):
            yield b" " * 4096

    _refused(probe.send(chunks()), ErrorCode.TOO_LARGE)


def test_batch_at_the_limit_is_served_one_more_is_too_large(server: RunningServer) -> None:
    with connect(server.protocol, server.target) as client:
        assert len(client.predict("iris", [IRIS_ROW] * MAX_BATCH).predictions) == MAX_BATCH
        with pytest.raises(ClientError) as refused:
            client.predict("iris", [IRIS_ROW] * (MAX_BATCH + 1))
    assert refused.value.code is ErrorCode.TOO_LARGE


def test_jsonrpc_batch_length_at_the_limit_is_served_one_more_is_too_large(
    server: RunningServer,
) -> None:
    if server.protocol != "jsonrpc":
        pytest.skip("JSON-RPC batches")
    call = ("predict", {"model": "iris", "instances": [IRIS_ROW]})
    with JsonRpcClient(server.target) as client:
        answers = client.batch([call] * JSONRPC_MAX_BATCH)
        assert not any(isinstance(a, ClientError) for a in answers), answers
        with pytest.raises(ClientError) as refused:
            client.batch([call] * (JSONRPC_MAX_BATCH + 1))
    assert refused.value.code is ErrorCode.TOO_LARGE


def test_deeply_nested_json_is_invalid_input(json_probe: Probe) -> None:
    body = json_probe.predict_body("@").replace(b'"@"', b"[" * DEPTH + b"]" * DEPTH)
    _refused(json_probe.send(body), ErrorCode.INVALID_INPUT)


def test_deeply_nested_protobuf_is_invalid_input(probe: Probe) -> None:
    if not isinstance(probe, GrpcProbe):
        pytest.skip("our protobuf service")
    # Field 2 (instances) opened as a group 150,000 times, never closed.
    _refused(probe.send(b"\x13" * DEPTH), ErrorCode.INVALID_INPUT)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def image_bomb(side: int = 100_000) -> bytes:
    """A 70-byte PNG that claims to be side x side pixels (10 gigapixels by default)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def test_an_image_bomb_is_too_large(server: RunningServer) -> None:
    bomb = image_bomb()
    assert len(bomb) < 100
    with connect(server.protocol, server.target) as client, pytest.raises(ClientError) as refused:
        client.predict_image("digits", bomb)
    assert refused.value.code is ErrorCode.TOO_LARGE
    assert "pixels" in refused.value.message


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999"])
def test_nan_and_infinity_in_json_are_invalid_input(json_probe: Probe, number: bytes) -> None:
    body = json_probe.predict_body([[0.0, 3.5, 1.4, 0.2]])
    _refused(json_probe.send(body.replace(b"0.0", number, 1)), ErrorCode.INVALID_INPUT)


def test_features_that_overflow_the_model_are_invalid_input(server: RunningServer) -> None:
    """1e308 is a finite number on every wire, but the model's arithmetic overflows on it:
    a refusal naming the row, not NaN probabilities or a meaningless label."""
    with connect(server.protocol, server.target) as client, pytest.raises(ClientError) as refused:
        client.predict("iris", [[5.1, 3.5, 1.4, 0.2], [1e308, 1e308, 1e308, 1e308]])
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert "instance 1 is too large" in refused.value.message


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_in_binary_numbers_are_invalid_input(
    server: RunningServer, probe: Probe, number: float
) -> None:
    if probe.body_format == "json":
        pytest.skip("JSON has no NaN or infinity (the JSON case sends the literals)")
    with connect(server.protocol, server.target) as client, pytest.raises(ClientError) as refused:
        client.predict("iris", [[number, 3.5, 1.4, 0.2]])
    assert refused.value.code is ErrorCode.INVALID_INPUT
