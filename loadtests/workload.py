"""What one simulated user sends: the same task mix whatever the protocol."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, get_args

import numpy as np

from clients.base import InferenceClient
from protobench.core.images import features_to_png

Payload = Literal["iris", "digits-image", "mix"]
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
    """One request: its name in the statistics and how many predictions it asks for."""

    name: str
    predictions: int
    send: Callable[[InferenceClient], object]


@dataclass(frozen=True)
class Workload:
    payload: Payload = "iris"
    batch: int = 1

    def __post_init__(self) -> None:
        if self.payload not in PAYLOADS:
            raise ValueError(f"payload must be one of {', '.join(PAYLOADS)}")
        if self.batch < 1:
            raise ValueError("batch must be at least 1")

    @cached_property
    def _rows(self) -> list[list[float]]:
        return [list(_IRIS_ROW) for _ in range(self.batch)]

    @cached_property
    def _image(self) -> bytes:
        return features_to_png(_DIGIT_ROW)

    def _predict(self) -> Call:
        if self.payload == "digits-image":
            image = self._image
            return Call("predict_image", 1, lambda c: c.predict_image("digits", image))
        rows = self._rows
        return Call("predict", self.batch, lambda c: c.predict("iris", rows))

    def next_call(self, rng: random.Random) -> Call:
        if self.payload != "mix":
            return self._predict()
        name = rng.choices([n for n, _ in _MIX], weights=[w for _, w in _MIX])[0]
        if name == "get_model":
            return Call(name, 0, lambda c: c.get_model("iris"))
        if name == "list_models":
            return Call(name, 0, lambda c: c.list_models())
        return self._predict()
