"""The JSON-RPC client's own features: the batch call and error mapping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clients.base import ClientError
from clients.jsonrpc_client import JsonRpcClient
from protobench.core.errors import ErrorCode
from protobench.core.types import Health, ModelMetadata, PredictResponse
from tests.servers.jsonrpc.conftest import MAX_BATCH
from tests.support.servers import RunningServer

pytestmark = pytest.mark.jsonrpc


@pytest.fixture
def client(server: RunningServer) -> Iterator[JsonRpcClient]:
    with JsonRpcClient(server.target) as client:
        yield client


def test_batch_answers_in_call_order_with_errors_in_place(client: JsonRpcClient) -> None:
    outcomes = client.batch(
        [
            ("predict", {"model": "iris", "instances": [[5.1, 3.5, 1.4, 0.2]]}),
            ("get_model", {"name": "nope"}),
            ("health", None),
            ("predict", {"model": "iris", "instances": [[1.0]]}),
            ("no_such_method", None),
            ("get_model", {"name": "digits"}),
        ]
    )
    assert isinstance(outcomes[0], PredictResponse) and outcomes[0].model == "iris"
    assert isinstance(outcomes[1], ClientError) and outcomes[1].code == ErrorCode.NOT_FOUND
    assert outcomes[1].protocol_status == -32001 and outcomes[1].details == {"model": "nope"}
    assert isinstance(outcomes[2], Health) and outcomes[2].ready
    assert isinstance(outcomes[3], ClientError) and outcomes[3].code == ErrorCode.INVALID_INPUT
    assert isinstance(outcomes[4], ClientError) and outcomes[4].protocol_status == -32601
    assert isinstance(outcomes[5], ModelMetadata) and outcomes[5].name == "digits"


def test_an_empty_batch_sends_nothing(client: JsonRpcClient) -> None:
    assert client.batch([]) == []


def test_a_batch_over_the_limit_raises_too_large(client: JsonRpcClient) -> None:
    with pytest.raises(ClientError) as exc:
        client.batch([("health", None)] * (MAX_BATCH + 1))
    assert exc.value.code == ErrorCode.TOO_LARGE and exc.value.protocol_status == -32003


def test_methods_without_a_decoder_return_raw_json(client: JsonRpcClient) -> None:
    document = client.call("rpc.discover")
    assert document["openrpc"].startswith("1.")


def test_an_http_error_maps_to_the_nearest_code(server: RunningServer) -> None:
    with (
        JsonRpcClient(f"http://{server.target}/elsewhere") as client,
        pytest.raises(ClientError) as exc,
    ):
        client.health()
    assert exc.value.code == ErrorCode.NOT_FOUND and exc.value.protocol_status == 404
