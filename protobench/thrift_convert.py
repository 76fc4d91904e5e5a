"""Core types <-> the Thrift structs generated from inference.thrift, shared by the Thrift
server and client.

The IDL's structs carry the core types' field names, so one walk over a struct's
``thrift_spec`` converts any of them both ways; the predict answer, the hot path, is written
out by hand. Imports only the generated structs (and through them the thrift runtime), no
server or socket code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from thrift.Thrift import TType

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.types import PredictResponse
from protobench.v1.inference_thrift import ttypes

T = TypeVar("T", bound=BaseModel)


def to_thrift(cls: Any, data: Mapping[str, Any]) -> Any:
    """A Thrift struct of class ``cls`` from a dict (a core type's ``model_dump()``)."""
    fields: dict[str, Any] = {}
    for entry in cls.thrift_spec:
        if entry is None:
            continue
        _, ttype, name, args, _ = entry
        value = data.get(name)
        if value is not None:
            fields[name] = _value_to_thrift(ttype, args, value)
    return cls(**fields)


def _value_to_thrift(ttype: int, args: Any, value: Any) -> Any:
    if ttype == TType.STRUCT:
        return to_thrift(args[0], value)
    if ttype == TType.LIST:
        element_type, element_args, _ = args
        return [_value_to_thrift(element_type, element_args, item) for item in value]
    return value


def from_thrift(struct: Any) -> dict[str, Any]:
    """A dict of a struct's set fields (unset optional fields left out, so the core's
    defaults apply), nested structs as dicts."""
    return {name: _value_from_thrift(v) for name, v in vars(struct).items() if v is not None}


def _value_from_thrift(value: Any) -> Any:
    if hasattr(value, "thrift_spec"):
        return from_thrift(value)
    if isinstance(value, list):
        return [_value_from_thrift(item) for item in value]
    return value


def core_from_thrift(core_type: type[T], struct: Any) -> T:
    return core_type.model_validate(from_thrift(struct))


def core_to_thrift(cls: Any, value: BaseModel) -> Any:
    return to_thrift(cls, value.model_dump())


def predict_response_to_thrift(response: PredictResponse) -> ttypes.PredictResponse:
    prediction = ttypes.Prediction
    return ttypes.PredictResponse(
        model=response.model,
        version=response.version,
        served_by=response.served_by,
        predictions=[prediction(p.label, p.probabilities) for p in response.predictions],
        prediction_id=response.prediction_id,
        arm=response.arm,
    )


def predict_response_from_thrift(struct: ttypes.PredictResponse) -> PredictResponse:
    return PredictResponse.model_validate(from_thrift(struct))


def error_to_thrift(error: CoreError) -> ttypes.InferenceError:
    return ttypes.InferenceError(
        code=error.code.value, message=error.message, details=json.dumps(error.details)
    )


def error_from_thrift(error: ttypes.InferenceError) -> tuple[ErrorCode, str, dict[str, Any]]:
    """The core code (INTERNAL for one this version does not know), message and details."""
    code = error.code if error.code in ErrorCode.__members__ else ErrorCode.INTERNAL.value
    try:
        details = json.loads(error.details or "{}")
    except ValueError:
        details = {}
    return ErrorCode(code), str(error.message), details if isinstance(details, dict) else {}
