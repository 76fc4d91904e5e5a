"""How the adapter says what went wrong, as a gRPC user sees it: status codes from the error
table, the core's message as the status details, its details dict in the trailing metadata,
grpc's own message size limit, deadlines, and no stack trace ever leaving the server."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import grpc
import pytest

from clients.base import ClientError
from clients.grpc_client import GrpcClient
from protobench.core.errors import ErrorCode
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.core.types import PredictResponse
from protobench.proto_convert import ERROR_DETAILS_KEY
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import inference_pb2_grpc as pb_grpc
from servers.adapter_common import INTERNAL_MESSAGE
from tests.servers.grpc.conftest import serving

pytestmark = pytest.mark.grpc

SETOSA = [5.1, 3.5, 1.4, 0.2]


def _rpc_error(call: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as exc:
        call()  # type: ignore[operator]
    return exc.value


def test_invalid_input_is_invalid_argument_with_message_and_details(
    channel: grpc.Channel,
) -> None:
    stub = pb_grpc.InferenceServiceStub(channel)  # type: ignore[no-untyped-call]
    request = pb.PredictRequest(model="iris", instances=[pb.Instance(features=[1.0, 2.0])])
    error = _rpc_error(lambda: stub.Predict(request, timeout=5))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "each instance must have 4 features; got shape [1, 2]"
    metadata = {item.key: item.value for item in error.trailing_metadata()}
    assert json.loads(metadata[ERROR_DETAILS_KEY]) == {"expected_features": 4, "shape": [1, 2]}


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda c: c.get_model("nope"), "NOT_FOUND"),
        (lambda c: c.predict("iris", [SETOSA] * 1001), "RESOURCE_EXHAUSTED"),
        (lambda c: c.delete_version("iris", "2"), "FAILED_PRECONDITION"),
        (lambda c: c.predict_image("digits", b"not an image"), "INVALID_ARGUMENT"),
    ],
    ids=["not-found", "over-batch-limit", "delete-default-version", "bad-image"],
)
def test_core_errors_get_the_table_status_and_details(
    client: GrpcClient, call: object, status: str
) -> None:
    with pytest.raises(ClientError) as exc:
        call(client)  # type: ignore[operator]
    assert exc.value.protocol_status == status
    assert exc.value.message and "Traceback" not in exc.value.message
    assert exc.value.details or status == "INVALID_ARGUMENT"


def test_a_message_over_the_size_limit_is_refused_cleanly(settings: Settings) -> None:
    service = InferenceService(settings.model_copy(update={"max_body_bytes": 64 * 1024}))
    service.load()
    with serving(service) as target, GrpcClient(target) as client:
        with pytest.raises(ClientError) as exc:
            client.predict_image("digits", b"\x89PNG" + b"\0" * (100 * 1024))
        assert exc.value.code == ErrorCode.TOO_LARGE
        assert exc.value.protocol_status == "RESOURCE_EXHAUSTED"
        assert "larger than max" in exc.value.message
        assert client.predict("iris", [SETOSA]).predictions[0].label == "setosa"


def test_unknown_method_is_unimplemented(channel: grpc.Channel) -> None:
    nope = channel.unary_unary(
        "/protobench.v1.InferenceService/Nope",
        request_serializer=bytes,
        response_deserializer=bytes,
    )
    error = _rpc_error(lambda: nope(b"", timeout=5))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED


def test_an_unexpected_exception_is_internal_with_a_generic_message(
    service: InferenceService,
    client: GrpcClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal state")

    monkeypatch.setattr(service, "predict", broken)
    with caplog.at_level(logging.ERROR), pytest.raises(ClientError) as exc:
        client.predict("iris", [SETOSA])
    assert exc.value.code == ErrorCode.INTERNAL
    assert exc.value.message == INTERNAL_MESSAGE
    assert "secret" not in str(exc.value)
    assert "secret internal state" in caplog.text  # the traceback stays in the server log
    assert client.health().ready


def test_a_deadline_the_model_cannot_meet_ends_at_once(settings: Settings) -> None:
    service = InferenceService(settings.model_copy(update={"model_delay_ms": 2000.0}))
    service.load()
    with serving(service) as target, GrpcClient(target, timeout=0.5) as client:
        client.health()  # connect first
        start = time.monotonic()
        with pytest.raises(ClientError) as exc:
            client.predict("iris", [SETOSA])
        waited = time.monotonic() - start
    assert exc.value.code == ErrorCode.DEADLINE_EXCEEDED
    # The server said it (a client-side timeout carries no protocol status) and did not
    # spend the model's 2 s: the worker was never taken.
    assert exc.value.protocol_status == "DEADLINE_EXCEEDED"
    assert "deadline" in exc.value.message
    assert waited < 2.0


def test_a_client_timeout_is_deadline_exceeded(
    service: InferenceService, client: GrpcClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    released = threading.Event()
    predict = service.predict

    def stuck(*args: Any, **kwargs: Any) -> PredictResponse:
        released.wait(5)
        return predict(*args, **kwargs)

    monkeypatch.setattr(service, "predict", stuck)
    client.timeout = 0.3
    try:
        with pytest.raises(ClientError) as exc:
            client.predict("iris", [SETOSA])
    finally:
        released.set()
    assert exc.value.code == ErrorCode.DEADLINE_EXCEEDED
    assert exc.value.protocol_status is None  # the client's own timeout, not the server's word
