"""The SOAP service's XML types, built from the core's pydantic types so the WSDL cannot drift
from what the core returns.

A list field becomes a repeated element (``maxOccurs="unbounded"``, no wrapper element), the
way protobuf's ``repeated`` reads, so ``<predictions>`` appears once per prediction and
``<probabilities>`` once per number. Field order and names are the core types'.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from spyne import Boolean, ComplexModel, Double, Long, Unicode

from protobench.core.types import (
    DeleteVersionResponse,
    FeedbackResponse,
    Health,
    ModelMetadata,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)

NAMESPACE = "urn:protobench:v1"

# spyne's Double checks its bounds as Decimals, and comparing a NaN to a Decimal raises: a NaN
# feature would be an internal error. Float bounds (equal to the defaults, so the WSDL still
# says xs:double) make it a plain validation failure, the caller's Fault.
XmlDouble = Double.customize(gt=float("-inf"), ge=float("-inf"), lt=float("inf"), le=float("inf"))

_SCALARS: dict[object, Any] = {str: Unicode, float: XmlDouble, int: Long, bool: Boolean}


def _spyne_type(annotation: Any) -> Any:
    """The spyne type of one pydantic field annotation (lists unwrapped by the caller)."""
    if typing.get_origin(annotation) is Literal:
        return Unicode
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return complex_model(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _spyne_type(inner)
    return _SCALARS[annotation]


@cache
def complex_model(model: type[BaseModel], name: str | None = None) -> Any:
    """A spyne ComplexModel with ``model``'s fields, in order, under ``name`` (the model's own
    by default)."""
    fields: dict[str, Any] = {"__namespace__": NAMESPACE}
    hints = typing.get_type_hints(model)
    for field_name in model.model_fields:
        annotation = hints[field_name]
        if typing.get_origin(annotation) is list:
            (item,) = typing.get_args(annotation)
            fields[field_name] = _spyne_type(item).customize(max_occurs="unbounded")
        else:
            fields[field_name] = _spyne_type(annotation)
    return type(name or model.__name__, (ComplexModel,), fields)


class _ModelsList(BaseModel):
    models: list[ModelMetadata]


class _PredictionsPage(BaseModel):
    predictions: list[StoredPrediction]


# The answers, named as the gRPC service names its response messages.
ListModelsResponse = complex_model(_ModelsList, "ListModelsResponse")
ModelMetadataXml = complex_model(ModelMetadata)
PredictResponseXml = complex_model(PredictResponse)
DeleteVersionResponseXml = complex_model(DeleteVersionResponse)
HealthResponse = complex_model(Health, "HealthResponse")
StrategyConfigXml = complex_model(StrategyConfig)
StrategyStatusXml = complex_model(StrategyStatus)
FeedbackResponseXml = complex_model(FeedbackResponse)
StoredPredictionXml = complex_model(StoredPrediction)
ListPredictionsResponse = complex_model(_PredictionsPage, "ListPredictionsResponse")


class Instance(ComplexModel):  # type: ignore[misc]  # spyne is untyped
    """One row of features, as the gRPC service's ``Instance`` message."""

    __namespace__ = NAMESPACE
    features = XmlDouble.customize(max_occurs="unbounded")
