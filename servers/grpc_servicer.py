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
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.prediction_store import PAGE_DEFAULT
from protobench.core.service import InferenceService
from protobench.proto_convert import (
    ERROR_DETAILS_KEY,
    caller_from_pb,
    delete_version_response_to_pb,
    error_details_to_metadata,
    feedback_response_to_pb,
    health_to_pb,
    instances_from_pb,
    model_metadata_to_pb,
    predict_answer_to_pb,
    predict_response_to_pb,
    stored_prediction_to_pb,
    strategy_config_from_pb,
    strategy_status_to_pb,
    stream_error_to_pb,
    version_from_pb,
)
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import inference_pb2_grpc as pb_grpc
from servers.adapter_common import INTERNAL_MESSAGE
from servers.grpc_spec import GRPC_STATUS

log = logging.getLogger(__name__)

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["InferenceService"].full_name

# RPCs with no core operation of their own: the streaming form of predict.
EXTRA_RPCS = frozenset({"PredictStream"})

Context = grpc.ServicerContext


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


def _stream_error(error: CoreError) -> pb.PredictStreamResponse:
    status_number: int = status_of(error.code).value[0]
    return pb.PredictStreamResponse(error=stream_error_to_pb(error, status_number))


def _predict(service: InferenceService, request: pb.PredictRequest) -> pb.PredictResponse:
    answer = service.predict(
        request.model,
        instances_from_pb(request),
        version_from_pb(request),
        caller_from_pb(request),
        plain=True,
    )
    return predict_answer_to_pb(answer)


def _predict_image(
    service: InferenceService, request: pb.PredictImageRequest
) -> pb.PredictResponse:
    return predict_response_to_pb(
        service.predict_image(request.model, request.image, version_from_pb(request))
    )


def _list_predictions(
    service: InferenceService, request: pb.ListPredictionsRequest
) -> pb.ListPredictionsResponse:
    limit = request.limit if request.HasField("limit") else PAGE_DEFAULT
    offset = request.offset if request.HasField("offset") else 0
    rows = service.list_predictions(request.job, limit, offset)
    return pb.ListPredictionsResponse(predictions=[stored_prediction_to_pb(p) for p in rows])


@dataclass(frozen=True)
class Rpc:
    """One unary RPC: the core operation it carries and how (decode, call the core, encode).
    ``waits_for_model``: refused at once when the deadline leaves less than the model takes."""

    operation: str
    name: str
    answer: Callable[[InferenceService, Any], Any]
    waits_for_model: bool = False


RPCS: tuple[Rpc, ...] = (
    Rpc("predict", "Predict", _predict, waits_for_model=True),
    Rpc("predict_image", "PredictImage", _predict_image, waits_for_model=True),
    Rpc(
        "list_models",
        "ListModels",
        lambda s, r: pb.ListModelsResponse(
            models=[model_metadata_to_pb(m) for m in s.list_models()]
        ),
    ),
    Rpc("get_model", "GetModel", lambda s, r: model_metadata_to_pb(s.get_model(r.name))),
    Rpc(
        "delete_version",
        "DeleteVersion",
        lambda s, r: delete_version_response_to_pb(s.delete_version(r.model, r.version)),
    ),
    Rpc("health", "Health", lambda s, r: health_to_pb(s.health())),
    Rpc("get_strategy", "GetStrategy", lambda s, r: strategy_status_to_pb(s.get_strategy(r.model))),
    Rpc(
        "set_strategy",
        "SetStrategy",
        lambda s, r: strategy_status_to_pb(
            s.set_strategy(r.model, strategy_config_from_pb(r.strategy))
        ),
    ),
    Rpc("promote", "Promote", lambda s, r: strategy_status_to_pb(s.promote(r.model))),
    Rpc("rollback", "Rollback", lambda s, r: strategy_status_to_pb(s.rollback(r.model))),
    Rpc(
        "feedback",
        "Feedback",
        lambda s, r: feedback_response_to_pb(s.feedback(r.prediction_id, r.reward)),
    ),
    Rpc(
        "get_prediction",
        "GetPrediction",
        lambda s, r: stored_prediction_to_pb(s.get_prediction(r.prediction_id)),
    ),
    Rpc("list_predictions", "ListPredictions", _list_predictions),
)

# Which RPC carries each core operation; the parity test checks it against the descriptor.
OPERATIONS: dict[str, str] = {rpc.operation: rpc.name for rpc in RPCS}


def _method(rpc: Rpc) -> Callable[[InferenceServicer, Any, Context], Any]:
    answer, name, waits_for_model = rpc.answer, rpc.name, rpc.waits_for_model

    def method(self: InferenceServicer, request: Any, context: Context) -> Any:
        """Refuse a deadline that cannot be met, answer, map any error."""
        _check_deadline(context, self._model_s if waits_for_model else 0.0)
        try:
            return answer(self._service, request)
        except Exception as exc:
            _fail(context, name, exc)

    method.__name__ = method.__qualname__ = rpc.name
    return method


class InferenceServicer(pb_grpc.InferenceServiceServicer):
    """One instance per server; methods run on the server's worker threads. The unary RPCs are
    the ``RPCS`` table's (set on the class below); the streaming one is written out."""

    def __init__(self, service: InferenceService) -> None:
        self._service = service
        self._model_s = service.min_predict_s

    def PredictStream(
        self, request_iterator: Iterable[pb.PredictRequest], context: Context
    ) -> Iterator[pb.PredictStreamResponse]:
        for request in request_iterator:
            _check_deadline(context, self._model_s)
            try:
                answer = pb.PredictStreamResponse(response=_predict(self._service, request))
            except CoreError as exc:
                answer = _stream_error(exc)
            except Exception:
                log.exception("unexpected error in PredictStream")
                answer = _stream_error(CoreError(ErrorCode.INTERNAL, INTERNAL_MESSAGE))
            yield answer


for _rpc in RPCS:
    setattr(InferenceServicer, _rpc.name, _method(_rpc))
