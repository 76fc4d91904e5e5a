"""Core types <-> protobench.v1 protobuf messages, shared by the gRPC server and client.

Both directions carry exactly the fields of the core types (doubles stay doubles, so a gRPC
prediction is bit-identical to the core's). Imports only the generated messages and the core
types: no grpc, so it can be used where no channel or server exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from protobench.core.errors import CoreError
from protobench.core.types import (
    DeleteVersionResponse,
    FeedbackResponse,
    Health,
    ModelMetadata,
    PredictAnswer,
    Prediction,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
    TensorSpec,
    VersionStats,
)
from protobench.v1 import inference_pb2 as pb

# The trailing metadata key in which the server sends a CoreError's details dict, as JSON.
ERROR_DETAILS_KEY = "protobench-error-details"

# -- core -> protobuf ---------------------------------------------------------------------------


def model_metadata_to_pb(metadata: ModelMetadata) -> pb.ModelMetadata:
    spec = metadata.input
    return pb.ModelMetadata(
        name=metadata.name,
        task=metadata.task,
        description=metadata.description,
        versions=metadata.versions,
        default_version=metadata.default_version,
        input=pb.TensorSpec(name=spec.name, dtype=spec.dtype, shape=spec.shape),
        labels=metadata.labels,
    )


def predict_response_to_pb(response: PredictResponse) -> pb.PredictResponse:
    return pb.PredictResponse(
        model=response.model,
        version=response.version,
        served_by=response.served_by,
        predictions=[
            pb.Prediction(label=p.label, probabilities=p.probabilities)
            for p in response.predictions
        ],
        prediction_id=response.prediction_id,
        arm=response.arm,
    )


def predict_answer_to_pb(answer: PredictAnswer) -> pb.PredictResponse:
    """The core's plain answer straight into the message: each row added in place from the
    model's floats, with no pydantic model per row to build and then read."""
    message = pb.PredictResponse(
        model=answer.model,
        version=answer.version,
        served_by=answer.served_by,
        prediction_id=answer.prediction_id,
        arm=answer.arm,
    )
    add = message.predictions.add
    for label, row in zip(answer.labels, answer.probabilities, strict=True):
        add(label=label, probabilities=row)
    return message


def delete_version_response_to_pb(response: DeleteVersionResponse) -> pb.DeleteVersionResponse:
    return pb.DeleteVersionResponse(
        model=response.model, deleted_version=response.deleted_version, versions=response.versions
    )


def health_to_pb(health: Health) -> pb.HealthResponse:
    return pb.HealthResponse(
        live=health.live, ready=health.ready, served_by=health.served_by, models=health.models
    )


def stream_error_to_pb(error: CoreError, grpc_status: int) -> pb.StreamError:
    """``grpc_status`` is the numeric status the same error gets on a unary call."""
    return pb.StreamError(code=error.code.value, grpc_status=grpc_status, message=error.message)


def predict_request_to_pb(
    model: str,
    instances: Iterable[Iterable[float]],
    version: str | None = None,
    caller: str | None = None,
) -> pb.PredictRequest:
    """``instances`` is rows of numbers: nested lists or a 2-D numpy array."""
    request = pb.PredictRequest(
        model=model, instances=[pb.Instance(features=row) for row in instances]
    )
    if version is not None:
        request.version = version
    if caller is not None:
        request.caller = caller
    return request


# -- protobuf -> core ---------------------------------------------------------------------------


def model_metadata_from_pb(message: pb.ModelMetadata) -> ModelMetadata:
    spec = message.input
    return ModelMetadata.model_validate(
        {
            "name": message.name,
            "task": message.task,
            "description": message.description,
            "versions": list(message.versions),
            "default_version": message.default_version,
            "input": TensorSpec(name=spec.name, dtype=spec.dtype, shape=list(spec.shape)),
            "labels": list(message.labels),
        }
    )


def predict_response_from_pb(message: pb.PredictResponse) -> PredictResponse:
    return PredictResponse(
        model=message.model,
        version=message.version,
        served_by=message.served_by,
        predictions=[
            Prediction(label=p.label, probabilities=list(p.probabilities))
            for p in message.predictions
        ],
        prediction_id=message.prediction_id,
        arm=message.arm,
    )


def health_from_pb(message: pb.HealthResponse) -> Health:
    return Health(
        live=message.live,
        ready=message.ready,
        served_by=message.served_by,
        models=list(message.models),
    )


def instances_from_pb(request: pb.PredictRequest) -> list[list[float]]:
    return [list(instance.features) for instance in request.instances]


def version_from_pb(request: pb.PredictRequest | pb.PredictImageRequest) -> str | None:
    """The requested version, or None (the model's default) when the field is unset."""
    return request.version if request.HasField("version") else None


def caller_from_pb(request: pb.PredictRequest) -> str | None:
    return request.caller if request.HasField("caller") else None


# -- deployment strategies and stored predictions, both directions ------------------------------

_OPTIONAL_STRATEGY_FIELDS = (
    "canary_percent",
    "max_error_rate",
    "min_calls",
    "bandit",
    "epsilon",
    "seed",
)


def strategy_config_to_pb(config: StrategyConfig) -> pb.StrategyConfig:
    return pb.StrategyConfig(
        kind=config.kind,
        versions=config.versions,
        weights=config.weights,
        **{name: getattr(config, name) for name in _OPTIONAL_STRATEGY_FIELDS},
    )


def strategy_config_from_pb(message: pb.StrategyConfig) -> dict[str, Any]:
    """The fields that were set, for the core to check (an unknown ``kind`` is the caller's
    mistake, reported like any other invalid configuration)."""
    fields: dict[str, Any] = {
        "kind": message.kind or "single",
        "versions": list(message.versions),
        "weights": list(message.weights),
    }
    for name in _OPTIONAL_STRATEGY_FIELDS:
        if message.HasField(name):
            fields[name] = getattr(message, name)
    return fields


def strategy_status_to_pb(status: StrategyStatus) -> pb.StrategyStatus:
    return pb.StrategyStatus(
        model=status.model,
        strategy=strategy_config_to_pb(status.strategy),
        stats=[pb.VersionStats(**s.model_dump()) for s in status.stats],
        event=status.event,
        shadow_dropped=status.shadow_dropped,
    )


def strategy_status_from_pb(message: pb.StrategyStatus) -> StrategyStatus:
    return StrategyStatus(
        model=message.model,
        strategy=StrategyConfig.model_validate(strategy_config_from_pb(message.strategy)),
        stats=[
            VersionStats.model_validate(
                {name: getattr(s, name) for name in VersionStats.model_fields}
            )
            for s in message.stats
        ],
        event=message.event,
        shadow_dropped=message.shadow_dropped,
    )


def feedback_response_to_pb(response: FeedbackResponse) -> pb.FeedbackResponse:
    return pb.FeedbackResponse(**response.model_dump())


def feedback_response_from_pb(message: pb.FeedbackResponse) -> FeedbackResponse:
    return FeedbackResponse(
        prediction_id=message.prediction_id,
        model=message.model,
        version=message.version,
        reward=message.reward,
    )


def stored_prediction_to_pb(stored: StoredPrediction) -> pb.StoredPrediction:
    return pb.StoredPrediction(**stored.model_dump())


def stored_prediction_from_pb(message: pb.StoredPrediction) -> StoredPrediction:
    return StoredPrediction.model_validate(
        {
            **{name: getattr(message, name) for name in StoredPrediction.model_fields},
            "probabilities": list(message.probabilities),
        }
    )


# -- error details in trailing metadata ---------------------------------------------------------


def error_details_to_metadata(details: dict[str, Any]) -> str:
    """JSON with non-ASCII escaped: a valid (non-binary) gRPC metadata value."""
    return json.dumps(details, default=str)


def error_details_from_metadata(value: str | bytes) -> dict[str, Any]:
    try:
        details = json.loads(value)
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}
