"""The Thrift adapter's operations: decode a request struct, call the core, encode the answer.

One handler per connection (``ConnectionHandler``): Thrift's binary protocol has no headers,
so the API key is presented once per connection (``Authenticate``) and remembered there.
Every failure leaves as ``InferenceError`` with the core's code; an unexpected one is logged
here and reaches the caller as INTERNAL with a fixed message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from protobench.core.auth import bearer_matches, caller
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.thrift_convert import (
    core_to_thrift,
    error_to_thrift,
    from_thrift,
    predict_response_to_thrift,
)
from protobench.v1.inference_thrift import ttypes
from servers.adapter_common import INTERNAL_MESSAGE

log = logging.getLogger(__name__)

AUTHENTICATE_HINT = (
    "Thrift has no headers: call Authenticate with the key once per connection, the "
    "counterpart of 'Authorization: Bearer <key>'"
)


def _field(request: Any, name: str) -> Any:
    """A field the IDL declares and the core needs; unset is the caller's mistake."""
    value = getattr(request, name, None)
    if value is None:
        raise CoreError(ErrorCode.INVALID_INPUT, f"{name} is required", {"field": name})
    return value


def _predict(service: InferenceService, r: Any) -> Any:
    rows = [instance.features for instance in _field(r, "instances")]
    answer = service.predict(_field(r, "model"), rows, r.version, r.caller)
    return predict_response_to_thrift(answer)


def _predict_image(service: InferenceService, r: Any) -> Any:
    answer = service.predict_image(_field(r, "model"), _field(r, "image"), r.version)
    return predict_response_to_thrift(answer)


def _list_models(service: InferenceService, _: Any) -> Any:
    models = [core_to_thrift(ttypes.ModelMetadata, m) for m in service.list_models()]
    return ttypes.ListModelsResponse(models=models)


def _set_strategy(service: InferenceService, r: Any) -> Any:
    # the decoded fields go to the core, which checks them the same way for every protocol
    fields = from_thrift(_field(r, "strategy"))
    return core_to_thrift(ttypes.StrategyStatus, service.set_strategy(_field(r, "model"), fields))


def _list_predictions(service: InferenceService, r: Any) -> Any:
    limit = 100 if r.limit is None else r.limit
    offset = 0 if r.offset is None else r.offset
    page = service.list_predictions(_field(r, "job"), limit, offset)
    return ttypes.ListPredictionsResponse(
        predictions=[core_to_thrift(ttypes.StoredPrediction, p) for p in page]
    )


def _returning(cls: Any, call: Callable[[InferenceService, Any], Any]) -> Operation:
    """An operation whose core answer converts field by field to the struct ``cls``."""
    return lambda service, request: core_to_thrift(cls, call(service, request))


Operation = Callable[[InferenceService, Any], Any]

# The IDL's methods (Authenticate aside, which is the connection's own), each one core call.
OPERATIONS: dict[str, Operation] = {
    "ListModels": _list_models,
    "GetModel": _returning(ttypes.ModelMetadata, lambda s, r: s.get_model(_field(r, "name"))),
    "Predict": _predict,
    "PredictImage": _predict_image,
    "DeleteVersion": _returning(
        ttypes.DeleteVersionResponse,
        lambda s, r: s.delete_version(_field(r, "model"), _field(r, "version")),
    ),
    "Health": _returning(ttypes.HealthResponse, lambda s, _: s.health()),
    "GetStrategy": _returning(
        ttypes.StrategyStatus, lambda s, r: s.get_strategy(_field(r, "model"))
    ),
    "SetStrategy": _set_strategy,
    "Promote": _returning(ttypes.StrategyStatus, lambda s, r: s.promote(_field(r, "model"))),
    "Rollback": _returning(ttypes.StrategyStatus, lambda s, r: s.rollback(_field(r, "model"))),
    "Feedback": _returning(
        ttypes.FeedbackResponse,
        lambda s, r: s.feedback(_field(r, "prediction_id"), _field(r, "reward")),
    ),
    "GetPrediction": _returning(
        ttypes.StoredPrediction, lambda s, r: s.get_prediction(_field(r, "prediction_id"))
    ),
    "ListPredictions": _list_predictions,
}


@dataclass
class ConnectionHandler:
    """What the generated Processor calls, one instance per connection."""

    service: InferenceService
    authenticated: bool = False

    def Authenticate(self, request: Any) -> ttypes.AuthenticateResponse:
        api_key = self.service.settings.api_key
        presented = getattr(request, "api_key", None)
        if api_key is not None and not (
            isinstance(presented, str) and bearer_matches(f"Bearer {presented}", api_key)
        ):
            raise error_to_thrift(
                CoreError(ErrorCode.UNAUTHENTICATED, f"wrong API key. {AUTHENTICATE_HINT}")
            )
        self.authenticated = True
        return ttypes.AuthenticateResponse(authenticated=True)

    def __getattr__(self, method: str) -> Callable[[Any], Any]:
        operation = OPERATIONS.get(method)
        if operation is None:
            raise AttributeError(method)
        return lambda request: self._call(method, operation, request)

    def _call(self, method: str, operation: Operation, request: Any) -> Any:
        try:
            if request is None:
                raise CoreError(ErrorCode.INVALID_INPUT, f"{method} needs its request struct")
            with caller(self.authenticated):
                return operation(self.service, request)
        except CoreError as exc:
            if exc.code is ErrorCode.UNAUTHENTICATED:
                exc = CoreError(exc.code, f"{exc.message}. {AUTHENTICATE_HINT}", exc.details)
            raise error_to_thrift(exc) from None
        except Exception:
            log.exception("unexpected error in Thrift method %s", method)
            raise error_to_thrift(CoreError(ErrorCode.INTERNAL, INTERNAL_MESSAGE)) from None
