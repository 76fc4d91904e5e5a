"""What one simulated user sends: the same task mix whatever the protocol."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, get_args

import numpy as np

from clients.base import InferenceClient, Prepared
from protobench.core.images import features_to_png

Payload = Literal["iris", "iris-xml", "digits-image", "mix"]
PAYLOADS: tuple[Payload, ...] = get_args(Payload)

# Fixed inputs, so every protocol and every run sends identical bytes of model input.
_IRIS_ROW = [5.9, 3.0, 5.1, 1.8]
_DIGIT_ROW = np.array(
    [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12,
     0, 0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0,
     0, 0, 0, 6, 13, 10, 0, 0, 0],
    dtype=np.float64,
)  # fmt: skip  # the first image of scikit-learn's digits dataset (a zero)

# The share of each call in the "mix" payload: mostly predictions, some metadata.
_MIX = (("predict", 0.8), ("get_model", 0.1), ("list_models", 0.1))


@dataclass(frozen=True)
class Call:
    """One request: the client operation (also its name in the statistics), its arguments
    and how many predictions it asks for."""

    name: str
    predictions: int
    arguments: dict[str, Any] = field(default_factory=dict)

    def prepare(self, client: InferenceClient) -> Prepared:
        """The call encoded once for ``client``; each invocation sends it."""
        return client.prepare(self.name, **self.arguments)

    def send(self, client: InferenceClient) -> object:
        return self.prepare(client)()


@dataclass(frozen=True)
class Workload:
    payload: Payload = "iris"
    batch: int = 1

    def __post_init__(self) -> None:
        if self.payload not in PAYLOADS:
            raise ValueError(f"payload must be one of {', '.join(PAYLOADS)}")
        if self.batch < 1:
            raise ValueError("batch must be at least 1")

    @property
    def client_options(self) -> dict[str, object]:
        """Keyword arguments for the client: iris-xml is REST asking for XML answers (the
        same route and documents as iris, to show what XML costs against JSON)."""
        return {"xml": True} if self.payload == "iris-xml" else {}

    @cached_property
    def _predict(self) -> Call:
        if self.payload == "digits-image":
            image = features_to_png(_DIGIT_ROW)
            return Call("predict_image", 1, {"model": "digits", "image": image})
        rows = [list(_IRIS_ROW) for _ in range(self.batch)]
        return Call("predict", self.batch, {"model": "iris", "instances": rows})

    @cached_property
    def _mix(self) -> dict[str, Call]:
        return {
            "predict": self._predict,
            "get_model": Call("get_model", 0, {"name": "iris"}),
            "list_models": Call("list_models", 0),
        }

    def next_call(self, rng: random.Random) -> Call:
        if self.payload != "mix":
            return self._predict
        name = rng.choices([n for n, _ in _MIX], weights=[w for _, w in _MIX])[0]
        return self._mix[name]
