"""The served form of a model: fitted parameters evaluated with plain numpy.

scikit-learn's per-call overhead on one row (~100 µs) would double the cost of a request, so
the service never calls an estimator. Training exports the fitted weights into a
``SoftmaxNetwork`` (zero or more ReLU layers, then a softmax), which computes the same
probabilities as ``predict_proba`` for LogisticRegression and MLPClassifier. Artifacts are
``.npz`` arrays plus a JSON card, loaded without pickle.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from protobench.core.types import Task, TensorSpec

FloatArray = NDArray[np.float64]

PARAMS_FILE = "params.npz"
CARD_FILE = "card.json"


@dataclass(frozen=True)
class SoftmaxNetwork:
    """Dense layers: ReLU after every layer but the last, softmax after the last."""

    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]

    @cached_property
    def n_features(self) -> int:
        return int(self.weights[0].shape[0])

    def logits(self, x: FloatArray) -> FloatArray:
        h = x
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = np.maximum(h @ w + b, 0.0)
        z: FloatArray = h @ self.weights[-1] + self.biases[-1]
        return z

    def predict_proba(self, x: FloatArray) -> FloatArray:
        z = self.logits(x)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        proba: FloatArray = e / e.sum(axis=1, keepdims=True)
        return proba


@dataclass(frozen=True)
class ModelCard:
    """What a version is, for metadata and for people reading the artifact folder."""

    name: str
    version: str
    task: Task
    description: str
    estimator: str
    labels: list[str]
    input: TensorSpec
    train_accuracy: float
    sklearn_version: str

    def to_json(self) -> str:
        data: dict[str, Any] = dict(self.__dict__)
        data["input"] = self.input.model_dump()
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        data = json.loads(text)
        data["input"] = TensorSpec(**data["input"])
        return cls(**data)


@dataclass(frozen=True)
class ServedModel:
    card: ModelCard
    network: SoftmaxNetwork


def network_from_estimator(estimator: Any) -> SoftmaxNetwork:
    """Export a fitted multiclass LogisticRegression or ReLU MLPClassifier."""
    if hasattr(estimator, "coefs_"):
        if estimator.activation != "relu" or estimator.out_activation_ != "softmax":
            raise ValueError("only ReLU MLPs with a softmax output can be served")
        weights = tuple(np.asarray(w, dtype=np.float64) for w in estimator.coefs_)
        biases = tuple(np.asarray(b, dtype=np.float64) for b in estimator.intercepts_)
        return SoftmaxNetwork(weights, biases)
    if hasattr(estimator, "coef_") and len(estimator.classes_) > 2:
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        intercept = np.asarray(estimator.intercept_, dtype=np.float64)
        return SoftmaxNetwork((coef.T.copy(),), (intercept,))
    raise ValueError(f"cannot export {type(estimator).__name__} to the numpy fast path")


def save_artifact(folder: Path, model: ServedModel) -> None:
    """Write atomically, so replicas that train the same version at once never see half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, FloatArray] = {}
    for i, (w, b) in enumerate(zip(model.network.weights, model.network.biases, strict=True)):
        arrays[f"w{i}"] = w
        arrays[f"b{i}"] = b
    _atomic_write(folder / PARAMS_FILE, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]
    _atomic_write(folder / CARD_FILE, lambda f: f.write(model.card.to_json().encode()))


def load_artifact(folder: Path) -> ServedModel:
    card = ModelCard.from_json((folder / CARD_FILE).read_text())
    with np.load(folder / PARAMS_FILE, allow_pickle=False) as data:
        n_layers = sum(1 for key in data.files if key.startswith("w"))
        weights = tuple(np.asarray(data[f"w{i}"], dtype=np.float64) for i in range(n_layers))
        biases = tuple(np.asarray(data[f"b{i}"], dtype=np.float64) for i in range(n_layers))
    return ServedModel(card, SoftmaxNetwork(weights, biases))


def _atomic_write(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
