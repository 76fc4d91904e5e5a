"""PredictStream: one answer per request, in order, on one call; a bad request gets its own
StreamError item and the stream goes on."""

from __future__ import annotations

import grpc
import pytest
from sklearn.datasets import load_iris

from clients.base import ClientError
from clients.grpc_client import GrpcClient, PredictCall
from protobench.core.errors import ErrorCode
from protobench.core.service import InferenceService
from protobench.core.types import PredictResponse
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import inference_pb2_grpc as pb_grpc
from tests.support.answers import without_id

pytestmark = pytest.mark.grpc

IRIS = load_iris().data


def test_n_requests_get_n_answers_in_order(client: GrpcClient, service: InferenceService) -> None:
    calls = [
        PredictCall("iris", IRIS[i : i + 1 + i % 3].tolist(), ("1", "2", None)[i % 3])
        for i in range(0, 150, 3)
    ]
    answers = list(client.predict_stream(calls))
    assert len(answers) == len(calls)
    for call, answer in zip(calls, answers, strict=True):
        expected = service.predict(call.model, call.instances, call.version)
        assert isinstance(answer, PredictResponse)
        assert without_id(answer) == without_id(expected)


def test_a_bad_item_gets_its_error_and_the_stream_goes_on(
    client: GrpcClient, service: InferenceService
) -> None:
    good = PredictCall("iris", [[5.1, 3.5, 1.4, 0.2]])
    calls = [
        good,
        PredictCall("iris", [[1.0, 2.0]]),
        PredictCall("nope", [[5.1, 3.5, 1.4, 0.2]]),
        good,
        PredictCall("iris", [[1.0, 2.0, 3.0, 4.0]] * 1001),
        PredictCall("iris", [[5.1, 3.5, 1.4, 0.2]], "9"),
        good,
    ]
    answers = list(client.predict_stream(calls))
    expected = service.predict(good.model, good.instances)
    good_answers = [answers[i] for i in (0, 3, 6)]
    assert all(isinstance(a, PredictResponse) for a in good_answers)
    assert [without_id(a) for a in good_answers] == [without_id(expected)] * 3
    errors = [answers[i] for i in (1, 2, 4, 5)]
    assert all(isinstance(e, ClientError) for e in errors)
    assert [e.code for e in errors if isinstance(e, ClientError)] == [
        ErrorCode.INVALID_INPUT, ErrorCode.NOT_FOUND, ErrorCode.TOO_LARGE, ErrorCode.NOT_FOUND,
    ]  # fmt: skip
    assert all(isinstance(e, ClientError) and e.message for e in errors)
    assert [e.protocol_status for e in errors if isinstance(e, ClientError)] == [
        "INVALID_ARGUMENT", "NOT_FOUND", "RESOURCE_EXHAUSTED", "NOT_FOUND",
    ]  # fmt: skip


def test_stream_error_items_carry_code_status_and_message(channel: grpc.Channel) -> None:
    stub = pb_grpc.InferenceServiceStub(channel)  # type: ignore[no-untyped-call]
    requests = [
        pb.PredictRequest(model="iris", instances=[pb.Instance(features=[1.0])]),
        pb.PredictRequest(model="iris", instances=[pb.Instance(features=[5.1, 3.5, 1.4, 0.2])]),
    ]
    bad, good = stub.PredictStream(iter(requests), timeout=5)
    assert bad.WhichOneof("result") == "error"
    assert bad.error.code == "INVALID_INPUT"
    assert bad.error.grpc_status == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "4 features" in bad.error.message
    assert good.WhichOneof("result") == "response"
    assert good.response.predictions[0].label == "setosa"


def test_an_empty_stream_gets_no_answers(client: GrpcClient) -> None:
    assert list(client.predict_stream([])) == []


def test_a_malformed_call_fails_before_anything_is_sent(client: GrpcClient) -> None:
    calls = [PredictCall("iris", [[5.1, 3.5, 1.4, 0.2]]), PredictCall("iris", [["a"]])]  # type: ignore[list-item]
    try:
        list(client.predict_stream(calls))
    except ClientError as exc:
        assert exc.code == ErrorCode.INVALID_INPUT
    else:
        raise AssertionError("a malformed call was sent")
