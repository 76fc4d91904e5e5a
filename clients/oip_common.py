"""What the Open Inference Protocol clients share: the operations the standard has no place
for, and turning an inference answer's tensors back into a ``PredictResponse``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from clients.base import ClientError, InferenceClient, NotOffered
from protobench.core.errors import ErrorCode
from protobench.core.types import (
    FeedbackResponse,
    ModelMetadata,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)

LABEL, PROBABILITIES = "label", "probabilities"
IMAGE_INPUT = "image"
FEATURES_INPUT = {"iris": "features", "digits": "pixels"}
UNKNOWN_MODEL_INPUT = "features"  # sent for a model the server does not know: it says NOT_FOUND
NO_PLACE = "the Open Inference Protocol carries inference, metadata and health only"
NO_METADATA = (
    "its model metadata has no labels, task or default version; use GET /v2/models/{name} "
    "(or ModelMetadata) for the tensors"
)


class OipClient(InferenceClient):
    """The core operations outside the standard raise ``NotOffered``."""

    def _not_offered(self, operation: str, reason: str = NO_PLACE) -> NoReturn:
        raise NotOffered(self.protocol, operation, reason)

    def list_models(self) -> list[ModelMetadata]:
        self._not_offered("list_models", NO_METADATA)

    def get_model(self, name: str) -> ModelMetadata:
        self._not_offered("get_model", NO_METADATA)

    def delete_version(self, model: str, version: str) -> None:
        self._not_offered("delete_version")

    def get_strategy(self, model: str) -> StrategyStatus:
        self._not_offered("get_strategy")

    def set_strategy(self, model: str, strategy: StrategyConfig) -> StrategyStatus:
        self._not_offered("set_strategy")

    def promote(self, model: str) -> StrategyStatus:
        self._not_offered("promote")

    def rollback(self, model: str) -> StrategyStatus:
        self._not_offered("rollback")

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        self._not_offered("feedback")

    def get_prediction(self, prediction_id: str) -> StoredPrediction:
        self._not_offered("get_prediction")

    def list_predictions(
        self, job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]:
        self._not_offered("list_predictions")


def features(instances: Sequence[Sequence[float]] | npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """The instances as an FP64 matrix; a ragged or empty batch is sent as the server would
    see it from any client (shape [n, 0] or refused here as the caller's input)."""
    try:
        array = np.asarray(instances, dtype=np.float64)
    except (TypeError, ValueError):
        raise ClientError(
            ErrorCode.INVALID_INPUT, "instances must be rows of numbers of one length"
        ) from None
    if array.ndim == 1 and array.size == 0:
        return array.reshape(0, 0)
    return array


def prediction_document(
    model: str,
    version: str,
    parameters: Mapping[str, object],
    labels: Sequence[bytes],
    probabilities: npt.NDArray[np.float64] | None,
) -> dict[str, Any]:
    """An inference answer's tensors as protobench's prediction (a ``PredictResponse``'s
    fields): the label of each row and, when asked, its probabilities."""
    rows = probabilities.tolist() if probabilities is not None else [[] for _ in labels]
    return {
        "model": model,
        "version": version,
        "served_by": str(parameters.get("served_by", "")),
        "predictions": [
            {"label": label.decode(), "probabilities": row}
            for label, row in zip(labels, rows, strict=True)
        ],
        "prediction_id": str(parameters.get("prediction_id", "")),
        "arm": str(parameters.get("arm", "")),
    }


def predict_response(*fields: Any) -> PredictResponse:
    return PredictResponse.model_validate(prediction_document(*fields))
