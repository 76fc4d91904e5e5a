"""Deployment strategies in the core: routing, statistics, shadow, canary rollback, bandits."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest
from sklearn.datasets import load_iris

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.models import FloatArray, ServedModel, SoftmaxNetwork
from protobench.core.registry import ModelRegistry
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.core.strategies import sticky_fraction
from protobench.core.types import StrategyConfig

IRIS = load_iris().data


class BrokenNetwork(SoftmaxNetwork):
    """A version that fails on every call: the planted bad canary."""

    def logits(self, x: FloatArray) -> FloatArray:
        raise RuntimeError("planted failure")


class RegistryWithBrokenVersion(ModelRegistry):
    def __init__(self, registry: ModelRegistry, broken: str) -> None:
        super().__init__(registry.models_dir)
        self.broken = broken

    def get(self, name: str, version: str | None = None) -> ServedModel:
        served = super().get(name, version)
        if served.card.version != self.broken:
            return served
        network = BrokenNetwork(served.network.weights, served.network.biases)
        return dataclasses.replace(served, network=network)


def _strategy(service: InferenceService, **fields: object) -> None:
    service.set_strategy("iris", StrategyConfig.model_validate(fields))


def test_shadow_never_changes_the_primary_answer(service: InferenceService) -> None:
    rows = IRIS[::7].tolist()
    alone = service.predict("iris", rows, "1")
    _strategy(service, kind="shadow", versions=["1", "2"])
    shadowed = [service.predict("iris", rows) for _ in range(20)]
    service.strategies.drain_shadow()
    for answer in shadowed:
        assert answer.predictions == alone.predictions and answer.version == "1"
    stats = service.get_strategy("iris").stats
    candidate = next(s for s in stats if s.version == "2")
    assert candidate.shadow_calls == 20 and candidate.calls == 0
    assert 0.8 < candidate.shadow_agreement <= 1.0


def test_a_failing_shadow_never_fails_the_caller(settings: Settings) -> None:
    service = InferenceService(
        settings, RegistryWithBrokenVersion(ModelRegistry(settings.models_dir), "2")
    )
    service.load()
    _strategy(service, kind="shadow", versions=["1", "2"])
    for _ in range(5):
        assert service.predict("iris", [IRIS[0].tolist()]).version == "1"
    service.strategies.drain_shadow()
    candidate = next(s for s in service.get_strategy("iris").stats if s.version == "2")
    assert candidate.shadow_errors == 5


def test_a_full_shadow_queue_drops_copies_instead_of_waiting(settings: Settings) -> None:
    service = InferenceService(settings.model_copy(update={"shadow_queue": 1}))
    service.load()
    _strategy(service, kind="shadow", versions=["1", "2"])
    big = np.tile(IRIS, (6, 1))[:1000]
    for _ in range(30):
        service.predict("iris", big)
    service.strategies.drain_shadow()
    status = service.get_strategy("iris")
    candidate = next(s for s in status.stats if s.version == "2")
    assert candidate.shadow_calls + status.shadow_dropped == 30


def test_canary_is_rolled_back_when_its_error_rate_passes_the_threshold(
    settings: Settings,
) -> None:
    service = InferenceService(
        settings, RegistryWithBrokenVersion(ModelRegistry(settings.models_dir), "2")
    )
    service.load()
    _strategy(
        service,
        kind="canary",
        versions=["1", "2"],
        canary_percent=50,
        max_error_rate=0.3,
        min_calls=10,
        seed=4,
    )
    failures = 0
    for _ in range(100):
        try:
            assert service.predict("iris", [IRIS[0].tolist()]).version == "1"
        except CoreError as exc:
            assert exc.code == ErrorCode.INTERNAL and exc.details["version"] == "2"
            failures += 1
    status = service.get_strategy("iris")
    assert failures == 10  # judged after min_calls, then never routed to again
    assert status.strategy.kind == "single" and status.strategy.versions == ["1"]
    assert "rolled back automatically" in status.event


def test_input_errors_do_not_count_against_a_canary(service: InferenceService) -> None:
    _strategy(service, kind="canary", versions=["1", "2"], canary_percent=100, min_calls=1)
    for _ in range(5):
        with pytest.raises(CoreError):
            service.predict("iris", [[1.0, 2.0]])
    assert service.get_strategy("iris").strategy.kind == "canary"


def test_ab_split_is_sticky_and_follows_the_weights(service: InferenceService) -> None:
    _strategy(service, kind="ab", versions=["1", "2"], weights=[1, 3], seed=9)
    assignments = {}
    for i in range(400):
        caller = f"caller-{i}"
        versions = {
            service.predict("iris", [IRIS[0].tolist()], caller=caller).version for _ in range(2)
        }
        assert len(versions) == 1
        assignments[caller] = versions.pop()
    share = Counter(assignments.values())["2"] / 400
    assert abs(share - 0.75) < 4 * (0.75 * 0.25 / 400) ** 0.5  # within 4 sigma
    assert sticky_fraction(9, "caller-1") == sticky_fraction(9, "caller-1")


def test_routing_is_repeatable_under_a_seed(service: InferenceService) -> None:
    def arms() -> list[str]:
        _strategy(service, kind="canary", versions=["1", "2"], canary_percent=20, seed=42)
        return [service.predict("iris", [IRIS[0].tolist()]).arm for _ in range(50)]

    assert arms() == arms()


@pytest.mark.parametrize("algorithm", ["epsilon_greedy", "thompson"])
def test_bandit_converges_to_the_better_arm(service: InferenceService, algorithm: str) -> None:
    _strategy(service, kind="bandit", versions=["1", "2"], bandit=algorithm, epsilon=0.1, seed=1)
    rng = np.random.default_rng(0)
    late = Counter()
    for i in range(400):
        answer = service.predict("iris", [IRIS[0].tolist()])
        rate = 0.8 if answer.version == "1" else 0.4  # version 1 is planted as the better arm
        service.feedback(answer.prediction_id, float(rng.random() < rate))
        if i >= 300:
            late[answer.version] += 1
    assert late["1"] >= 80, late


def test_feedback_checks_id_and_reward(service: InferenceService) -> None:
    answer = service.predict("iris", [IRIS[0].tolist()])
    with pytest.raises(CoreError) as exc:
        service.feedback("unknown", 1.0)
    assert exc.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(CoreError) as exc:
        service.feedback(answer.prediction_id, -0.1)
    assert exc.value.code == ErrorCode.INVALID_INPUT
    assert service.feedback(answer.prediction_id, 0.5).version == answer.version


def test_promote_and_rollback_need_a_candidate(service: InferenceService) -> None:
    with pytest.raises(CoreError) as exc:
        service.promote("iris")
    assert exc.value.code == ErrorCode.FAILED_PRECONDITION
    _strategy(service, kind="shadow", versions=["1", "2"])
    assert service.promote("iris").strategy.versions == ["2"]


def test_promote_and_rollback_say_which_way_the_traffic_moved(service: InferenceService) -> None:
    _strategy(service, kind="canary", versions=["1", "2"])
    assert service.promote("iris").event == "canary promoted: 1 -> 2"
    _strategy(service, kind="canary", versions=["1", "2"])
    assert service.rollback("iris").event == "canary rolled back: 2 -> 1"


def test_a_version_in_the_strategy_cannot_be_deleted(service: InferenceService) -> None:
    _strategy(service, kind="canary", versions=["1", "2"])
    with pytest.raises(CoreError) as exc:
        service.delete_version("iris", "1")
    assert exc.value.code == ErrorCode.FAILED_PRECONDITION
    _strategy(service, kind="single")
    assert service.delete_version("iris", "1").versions == ["2"]
