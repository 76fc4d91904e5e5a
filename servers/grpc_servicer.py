"""The protobench.v1.InferenceService RPCs: decode, call the core, encode.

Errors: a ``CoreError`` ends the call with the gRPC status of its spec's row
(``servers.grpc_spec.GRPC_STATUS``), its message as the status details and its details dict
as JSON in the trailing metadata key ``protobench-error-details``. Anything unexpected is
logged here and the caller gets INTERNAL with a generic message. Deadlines: a call whose
deadline cannot be met when a worker picks it up (it has passed while the call queued, or the
model's configured delay is longer than the time left) ends at once with DEADLINE_EXCEEDED
instead of occupying the worker.

PredictStream answers each request with exactly one ``PredictStreamResponse``, in order: the
response, or a ``StreamError`` for that request alone; the stream goes on after a bad item.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import NoReturn, TypeVar

import grpc

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.core.strategies import parse_config
from protobench.proto_convert import (
    ERROR_DETAILS_KEY,
    caller_from_pb,
    delete_version_response_to_pb,
    error_details_to_metadata,
    feedback_response_to_pb,
    health_to_pb,
    instances_from_pb,
    model_metadata_to_pb,
    predict_response_to_pb,
    stored_prediction_to_pb,
    strategy_config_from_pb,
    strategy_status_to_pb,
    stream_error_to_pb,
    version_from_pb,
)
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import inference_pb2_grpc as pb_grpc
from servers.grpc_spec import GRPC_STATUS

log = logging.getLogger(__name__)

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["InferenceService"].full_name
INTERNAL_MESSAGE = "internal error; the server log has the details"

# Which RPC carries each core operation; the parity test checks it against the descriptor.
OPERATIONS: dict[str, str] = {
    "list_models": "ListModels",
    "get_model": "GetModel",
    "predict": "Predict",
    "predict_image": "PredictImage",
    "delete_version": "DeleteVersion",
    "health": "Health",
    "get_strategy": "GetStrategy",
    "set_strategy": "SetStrategy",
    "promote": "Promote",
    "rollback": "Rollback",
    "feedback": "Feedback",
    "get_prediction": "GetPrediction",
    "list_predictions": "ListPredictions",
}
DEFAULT_PAGE = 100
# RPCs with no core operation of their own: the streaming form of predict.
EXTRA_RPCS = frozenset({"PredictStream"})

Context = grpc.ServicerContext
T = TypeVar("T")


def status_of(code: ErrorCode) -> grpc.StatusCode:
    return grpc.StatusCode[GRPC_STATUS.code(code)]


def _abort(context: Context, error: CoreError) -> NoReturn:
    context.set_trailing_metadata(((ERROR_DETAILS_KEY, error_details_to_metadata(error.details)),))
    context.abort(status_of(error.code), error.message)


def _fail(context: Context, rpc: str, error: Exception) -> NoReturn:
    if isinstance(error, CoreError):
        _abort(context, error)
    log.error("unexpected error in %s", rpc, exc_info=error)
    context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)


def _check_deadline(context: Context, work_s: float = 0.0) -> None:
    remaining = context.time_remaining()
    if not context.is_active() or (remaining is not None and remaining <= work_s):
        left_ms = max(remaining or 0.0, 0.0) * 1000
        _abort(
            context,
            CoreError(
                ErrorCode.DEADLINE_EXCEEDED,
                f"the call's deadline leaves no time to answer ({left_ms:.0f} ms left, "
                f"the model takes at least {work_s * 1000:.0f} ms)",
            ),
        )


def _unary(context: Context, rpc: str, call: Callable[[], T], work_s: float = 0.0) -> T:
    """Every unary RPC: refuse a deadline that cannot be met, run ``call``, map any error."""
    _check_deadline(context, work_s)
    try:
        return call()
    except Exception as exc:
        _fail(context, rpc, exc)


def _stream_error(error: CoreError) -> pb.PredictStreamResponse:
    status_number: int = status_of(error.code).value[0]
    return pb.PredictStreamResponse(error=stream_error_to_pb(error, status_number))


class InferenceServicer(pb_grpc.InferenceServiceServicer):
    """One instance per server; methods run on the server's worker threads."""

    def __init__(self, service: InferenceService) -> None:
        self._service = service
        self._model_s = service.min_predict_s

    def ListModels(self, request: pb.ListModelsRequest, context: Context) -> pb.ListModelsResponse:
        return _unary(
            context,
            "ListModels",
            lambda: pb.ListModelsResponse(
                models=[model_metadata_to_pb(m) for m in self._service.list_models()]
            ),
        )

    def GetModel(self, request: pb.GetModelRequest, context: Context) -> pb.ModelMetadata:
        return _unary(
            context, "GetModel", lambda: model_metadata_to_pb(self._service.get_model(request.name))
        )

    def _predict(self, request: pb.PredictRequest) -> pb.PredictResponse:
        response = self._service.predict(
            request.model,
            instances_from_pb(request),
            version_from_pb(request),
            caller_from_pb(request),
        )
        return predict_response_to_pb(response)

    def Predict(self, request: pb.PredictRequest, context: Context) -> pb.PredictResponse:
        return _unary(context, "Predict", lambda: self._predict(request), self._model_s)

    def PredictImage(self, request: pb.PredictImageRequest, context: Context) -> pb.PredictResponse:
        return _unary(
            context,
            "PredictImage",
            lambda: predict_response_to_pb(
                self._service.predict_image(request.model, request.image, version_from_pb(request))
            ),
            self._model_s,
        )

    def PredictStream(
        self, request_iterator: Iterable[pb.PredictRequest], context: Context
    ) -> Iterator[pb.PredictStreamResponse]:
        for request in request_iterator:
            _check_deadline(context, self._model_s)
            try:
                answer = pb.PredictStreamResponse(response=self._predict(request))
            except CoreError as exc:
                answer = _stream_error(exc)
            except Exception:
                log.exception("unexpected error in PredictStream")
                answer = _stream_error(CoreError(ErrorCode.INTERNAL, INTERNAL_MESSAGE))
            yield answer

    def DeleteVersion(
        self, request: pb.DeleteVersionRequest, context: Context
    ) -> pb.DeleteVersionResponse:
        return _unary(
            context,
            "DeleteVersion",
            lambda: delete_version_response_to_pb(
                self._service.delete_version(request.model, request.version)
            ),
        )

    def Health(self, request: pb.HealthRequest, context: Context) -> pb.HealthResponse:
        return _unary(context, "Health", lambda: health_to_pb(self._service.health()))

    # -- deployment strategies and stored batch predictions --------------------------------------

    def GetStrategy(self, request: pb.GetStrategyRequest, context: Context) -> pb.StrategyStatus:
        return _unary(
            context,
            "GetStrategy",
            lambda: strategy_status_to_pb(self._service.get_strategy(request.model)),
        )

    def SetStrategy(self, request: pb.SetStrategyRequest, context: Context) -> pb.StrategyStatus:
        def call() -> pb.StrategyStatus:
            config = parse_config(strategy_config_from_pb(request.strategy))
            return strategy_status_to_pb(self._service.set_strategy(request.model, config))

        return _unary(context, "SetStrategy", call)

    def Promote(self, request: pb.PromoteRequest, context: Context) -> pb.StrategyStatus:
        return _unary(
            context, "Promote", lambda: strategy_status_to_pb(self._service.promote(request.model))
        )

    def Rollback(self, request: pb.RollbackRequest, context: Context) -> pb.StrategyStatus:
        return _unary(
            context,
            "Rollback",
            lambda: strategy_status_to_pb(self._service.rollback(request.model)),
        )

    def Feedback(self, request: pb.FeedbackRequest, context: Context) -> pb.FeedbackResponse:
        return _unary(
            context,
            "Feedback",
            lambda: feedback_response_to_pb(
                self._service.feedback(request.prediction_id, request.reward)
            ),
        )

    def GetPrediction(
        self, request: pb.GetPredictionRequest, context: Context
    ) -> pb.StoredPrediction:
        return _unary(
            context,
            "GetPrediction",
            lambda: stored_prediction_to_pb(self._service.get_prediction(request.prediction_id)),
        )

    def ListPredictions(
        self, request: pb.ListPredictionsRequest, context: Context
    ) -> pb.ListPredictionsResponse:
        limit = request.limit if request.HasField("limit") else DEFAULT_PAGE
        offset = request.offset if request.HasField("offset") else 0
        return _unary(
            context,
            "ListPredictions",
            lambda: pb.ListPredictionsResponse(
                predictions=[
                    stored_prediction_to_pb(p)
                    for p in self._service.list_predictions(request.job, limit, offset)
                ]
            ),
        )
