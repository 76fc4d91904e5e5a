"""Comparing prediction answers: every field but ``prediction_id``, which is unique per call."""

from __future__ import annotations

from protobench.core.types import PredictResponse


def without_id(answer: PredictResponse) -> PredictResponse:
    assert answer.prediction_id, "every answer carries a prediction id"
    return answer.model_copy(update={"prediction_id": ""})
