"""Training is deterministic and the numpy fast path equals scikit-learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from protobench.core.catalogue import CATALOGUE, fit
from protobench.core.models import load_artifact, network_from_estimator, save_artifact

VERSIONS = [(name, v) for name, recipe in CATALOGUE.items() for v in recipe.versions]


@pytest.mark.parametrize(("name", "version"), VERSIONS, ids=lambda x: getattr(x, "version", x))
def test_fast_path_equals_predict_proba(name: str, version: object) -> None:
    recipe = CATALOGUE[name]
    served, estimator = fit(recipe, version)  # type: ignore[arg-type]
    x, _, _ = recipe.load_dataset()
    np.testing.assert_allclose(
        served.network.predict_proba(x), estimator.predict_proba(x), rtol=0, atol=1e-9
    )
    assert served.card.train_accuracy > 0.9


@pytest.mark.parametrize(("name", "version"), VERSIONS, ids=lambda x: getattr(x, "version", x))
def test_training_is_deterministic(name: str, version: object) -> None:
    first, _ = fit(CATALOGUE[name], version)  # type: ignore[arg-type]
    second, _ = fit(CATALOGUE[name], version)  # type: ignore[arg-type]
    for a, b in zip(first.network.weights, second.network.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.card == second.card


def test_artifact_round_trip(tmp_path: Path) -> None:
    recipe = CATALOGUE["iris"]
    served, _ = fit(recipe, recipe.versions[1])
    save_artifact(tmp_path / "iris" / "2", served)
    loaded = load_artifact(tmp_path / "iris" / "2")
    assert loaded.card == served.card
    x, _, _ = recipe.load_dataset()
    np.testing.assert_array_equal(loaded.network.predict_proba(x), served.network.predict_proba(x))
    assert sorted(p.name for p in (tmp_path / "iris" / "2").iterdir()) == [
        "card.json",
        "params.npz",
    ]


def test_an_unsupported_estimator_is_refused() -> None:
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier().fit([[0.0], [1.0], [2.0]], [0, 1, 2])
    with pytest.raises(ValueError, match="cannot export"):
        network_from_estimator(tree)
