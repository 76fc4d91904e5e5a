"""The predict answer written straight into protobuf equals the core response converted."""

from __future__ import annotations

import pytest

from protobench.core.service import InferenceService
from protobench.proto_convert import (
    predict_answer_to_pb,
    predict_response_from_pb,
    predict_response_to_pb,
)

pytestmark = pytest.mark.grpc


@pytest.mark.parametrize("probabilities", [True, False])
def test_answer_to_pb_equals_response_to_pb(service: InferenceService, probabilities: bool) -> None:
    rows = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]
    answer = service.predict("iris", rows, probabilities=probabilities, plain=True)
    message = predict_answer_to_pb(answer)
    assert message == predict_response_to_pb(answer.response())
    assert predict_response_from_pb(message) == answer.response()  # doubles bit for bit
