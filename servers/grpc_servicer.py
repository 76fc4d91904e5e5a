"""The protobench.v1.InferenceService RPCs: decode, call the core service, encode.

Errors: a ``CoreError`` ends the call with the gRPC status from ``protobench.error_table``, its
message as the status details and its details dict as JSON in the trailing metadata key
``protobench-error-details``. Anything unexpected is logged here and the caller gets INTERNAL
with a generic message. A call whose deadline has passed, or cannot be met because the model's
configured delay is longer than the time left, ends at once with DEADLINE_EXCEEDED instead of
occupying a worker.

PredictStream answers each request with exactly one ``PredictStreamResponse``, in order: the
response, or a ``StreamError`` for that request alone; the stream goes on after a bad item.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import NoReturn, TypeVar

import grpc

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.error_table import ERROR_TABLE
from protobench.proto_convert import (
    delete_version_response_to_pb,
    health_to_pb,
    instances_from_pb,
    model_metadata_to_pb,
    predict_response_to_pb,
    stream_error_to_pb,
    version_from_pb,
)
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import inference_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["InferenceService"].full_name
ERROR_DETAILS_KEY = "protobench-error-details"
INTERNAL_MESSAGE = "internal error; the server log has the details"

# Which RPC carries each core operation; the parity test checks it against the descriptor.
OPERATIONS: dict[str, str] = {
    "list_models": "ListModels",
    "get_model": "GetModel",
    "predict": "Predict",
    "predict_image": "PredictImage",
    "delete_version": "DeleteVersion",
    "health": "Health",
}
# RPCs with no core operation of their own: the streaming form of predict.
EXTRA_RPCS = frozenset({"PredictStream"})

Result = TypeVar("Result")


def status_of(code: ErrorCode) -> grpc.StatusCode:
    return grpc.StatusCode[ERROR_TABLE[code].grpc_status]


def _abort(context: grpc.ServicerContext, error: CoreError) -> NoReturn:
    details = json.dumps(error.details, default=str)  # ASCII: a valid metadata value
    context.set_trailing_metadata(((ERROR_DETAILS_KEY, details),))
    context.abort(status_of(error.code), error.message)


def _check_deadline(context: grpc.ServicerContext, work_s: float) -> None:
    remaining = context.time_remaining()
    if not context.is_active() or (remaining is not None and remaining <= work_s):
        _abort(
            context,
            CoreError(
                ErrorCode.DEADLINE_EXCEEDED,
                "the call's deadline leaves no time to answer "
                f"({max(remaining or 0.0, 0.0) * 1000:.0f} ms left, "
                f"the model takes at least {work_s * 1000:.0f} ms)",
            ),
        )


class InferenceServicer(pb_grpc.InferenceServiceServicer):
    """One instance per server; methods run on the server's worker threads."""

    def __init__(self, service: InferenceService) -> None:
        self._service = service
        self._model_s = service.settings.model_delay_ms / 1000.0

    def _run(
        self,
        context: grpc.ServicerContext,
        rpc: str,
        call: Callable[[], Result],
        work_s: float = 0.0,
    ) -> Result:
        _check_deadline(context, work_s)
        try:
            return call()
        except CoreError as exc:
            _abort(context, exc)
        except Exception:
            log.exception("unexpected error in %s", rpc)
            context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)

    def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.ServicerContext
    ) -> pb.ListModelsResponse:
        models = self._run(context, "ListModels", self._service.list_models)
        return pb.ListModelsResponse(models=[model_metadata_to_pb(m) for m in models])

    def GetModel(
        self, request: pb.GetModelRequest, context: grpc.ServicerContext
    ) -> pb.ModelMetadata:
        return model_metadata_to_pb(
            self._run(context, "GetModel", lambda: self._service.get_model(request.name))
        )

    def Predict(
        self, request: pb.PredictRequest, context: grpc.ServicerContext
    ) -> pb.PredictResponse:
        return self._run(context, "Predict", lambda: self._predict(request), self._model_s)

    def _predict(self, request: pb.PredictRequest) -> pb.PredictResponse:
        response = self._service.predict(
            request.model, instances_from_pb(request), version_from_pb(request)
        )
        return predict_response_to_pb(response)

    def PredictImage(
        self, request: pb.PredictImageRequest, context: grpc.ServicerContext
    ) -> pb.PredictResponse:
        def predict_image() -> pb.PredictResponse:
            response = self._service.predict_image(
                request.model, request.image, version_from_pb(request)
            )
            return predict_response_to_pb(response)

        return self._run(context, "PredictImage", predict_image, self._model_s)

    def PredictStream(
        self, request_iterator: Iterable[pb.PredictRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.PredictStreamResponse]:
        for request in request_iterator:
            _check_deadline(context, self._model_s)
            try:
                yield pb.PredictStreamResponse(response=self._predict(request))
            except CoreError as exc:
                yield pb.PredictStreamResponse(error=_stream_error(exc))
            except Exception:
                log.exception("unexpected error in PredictStream")
                internal = CoreError(ErrorCode.INTERNAL, INTERNAL_MESSAGE)
                yield pb.PredictStreamResponse(error=_stream_error(internal))

    def DeleteVersion(
        self, request: pb.DeleteVersionRequest, context: grpc.ServicerContext
    ) -> pb.DeleteVersionResponse:
        deleted = self._run(
            context,
            "DeleteVersion",
            lambda: self._service.delete_version(request.model, request.version),
        )
        return delete_version_response_to_pb(deleted)

    def Health(self, request: pb.HealthRequest, context: grpc.ServicerContext) -> pb.HealthResponse:
        return health_to_pb(self._run(context, "Health", self._service.health))


def _stream_error(error: CoreError) -> pb.StreamError:
    status_number: int = status_of(error.code).value[0]
    return stream_error_to_pb(error, status_number)
