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
    Health,
    ModelMetadata,
    Prediction,
    PredictResponse,
    TensorSpec,
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
    )


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
    model: str, instances: Iterable[Iterable[float]], version: str | None = None
) -> pb.PredictRequest:
    """``instances`` is rows of numbers: nested lists or a 2-D numpy array."""
    request = pb.PredictRequest(
        model=model, instances=[pb.Instance(features=row) for row in instances]
    )
    if version is not None:
        request.version = version
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
