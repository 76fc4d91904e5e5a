"""The values the service takes and returns; every protocol encodes exactly these fields."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Task = Literal["tabular-classification", "image-classification"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TensorSpec(_Frozen):
    """The input a model expects: a name, an element type and a shape (-1 is the batch axis)."""

    name: str
    dtype: str
    shape: list[int]


class ModelMetadata(_Frozen):
    name: str
    task: Task
    description: str
    versions: list[str] = Field(description="Versions this server can serve, oldest first.")
    default_version: str = Field(description="The version used when a request names none.")
    input: TensorSpec
    labels: list[str] = Field(description="Class names, in the order of every probabilities list.")


class Prediction(_Frozen):
    label: str
    probabilities: list[float] = Field(description="One per class, in the order of `labels`.")


class PredictResponse(_Frozen):
    model: str
    version: str
    served_by: str = Field(description="The replica that answered (host:pid or a given name).")
    predictions: list[Prediction]


class DeleteVersionResponse(_Frozen):
    model: str
    deleted_version: str
    versions: list[str] = Field(description="Versions still served after the deletion.")


class Health(_Frozen):
    live: bool
    ready: bool
    served_by: str
    models: list[str] = Field(description="Models loaded and ready to serve.")
