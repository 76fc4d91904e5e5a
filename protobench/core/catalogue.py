"""Which models and versions protobench serves, and how each is trained (deterministically)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from protobench.core.models import ModelCard, ServedModel, network_from_estimator
from protobench.core.types import Task, TensorSpec

SEED = 0


@dataclass(frozen=True)
class VersionRecipe:
    version: str
    estimator: str
    make_estimator: Callable[[], Any]


@dataclass(frozen=True)
class ModelRecipe:
    name: str
    task: Task
    description: str
    input: TensorSpec
    features: tuple[str, ...]  # the input's column names, in order (what a batch header names)
    load_dataset: Callable[[], tuple[Any, Any, list[str]]]
    versions: tuple[VersionRecipe, ...]


def _iris() -> tuple[Any, Any, list[str]]:
    from sklearn.datasets import load_iris

    data = load_iris()
    return data.data, data.target, [str(n) for n in data.target_names]


def _digits() -> tuple[Any, Any, list[str]]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data, data.target, [str(n) for n in data.target_names]


def _logistic() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=5000, random_state=SEED)


def _mlp(hidden: int) -> Callable[[], Any]:
    def make() -> Any:
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=3000, random_state=SEED)

    return make


CATALOGUE: dict[str, ModelRecipe] = {
    "iris": ModelRecipe(
        name="iris",
        task="tabular-classification",
        description="Iris species from sepal and petal length and width (cm).",
        input=TensorSpec(name="features", dtype="float64", shape=[-1, 4]),
        features=("sepal_length", "sepal_width", "petal_length", "petal_width"),
        load_dataset=_iris,
        versions=(
            VersionRecipe("1", "LogisticRegression", _logistic),
            VersionRecipe("2", "MLPClassifier(16)", _mlp(16)),
        ),
    ),
    "digits": ModelRecipe(
        name="digits",
        task="image-classification",
        description="Handwritten digit from an 8x8 grayscale image (values 0-16), or any PNG/JPEG.",
        input=TensorSpec(name="pixels", dtype="float64", shape=[-1, 64]),
        features=tuple(f"pixel_{row}_{col}" for row in range(8) for col in range(8)),
        load_dataset=_digits,
        versions=(VersionRecipe("1", "LogisticRegression", _logistic),),
    ),
}


def fit(recipe: ModelRecipe, version: VersionRecipe) -> tuple[ServedModel, Any]:
    """Train one version on the whole dataset; returns the served form and the estimator."""
    import sklearn

    x, y, labels = recipe.load_dataset()
    estimator = version.make_estimator()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; accuracy is recorded instead
        estimator.fit(x, y)
    card = ModelCard(
        name=recipe.name,
        version=version.version,
        task=recipe.task,
        description=recipe.description,
        estimator=version.estimator,
        labels=labels,
        input=recipe.input,
        train_accuracy=float(np.mean(estimator.predict(x) == y)),
        sklearn_version=sklearn.__version__,
    )
    return ServedModel(card, network_from_estimator(estimator)), estimator
