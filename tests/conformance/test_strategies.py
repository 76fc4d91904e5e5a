"""Deployment strategies, feedback and stored batch predictions, on every protocol.

A strategy change mutates the server, so these tests share a server of their own (one per
protocol) whose predictions database holds a small planted batch job; each test sets the
strategy it needs first.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from clients import connect
from clients.base import ClientError, InferenceClient
from protobench.core.errors import ErrorCode
from protobench.core.prediction_store import Row
from protobench.core.sql_store import PredictionStore
from protobench.core.types import StrategyConfig
from protobench.protocols import Protocol
from tests.support.protocols import skip_unless_offered
from tests.support.servers import RunningServer, running_server

ROW = [5.1, 3.5, 1.4, 0.2]
JOB = "planted"


@pytest.fixture(scope="module")
def strategy_server(
    protocol: Protocol, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    skip_unless_offered(protocol, "set_strategy")
    workdir = tmp_path_factory.mktemp(f"strategies-{protocol}")
    url = f"sqlite:///{workdir / 'predictions.db'}"
    rows = [Row(str(i), "setosa", [0.9, 0.05, 0.05], position=i) for i in range(12)]
    PredictionStore(url).write(JOB, "iris", "2", rows)
    env = {"PROTOBENCH_PREDICTIONS_DB": url}
    with running_server(protocol, workdir, models_dir, env=env) as running:
        yield running


@pytest.fixture
def sc(strategy_server: RunningServer) -> Iterator[InferenceClient]:
    with connect(strategy_server.protocol, strategy_server.target) as client:
        client.set_strategy("iris", StrategyConfig())
        yield client
    assert strategy_server.process.poll() is None, strategy_server.log()


def _code(call: object, *args: object) -> ErrorCode:
    assert callable(call)
    with pytest.raises(ClientError) as exc:
        call(*args)
    return exc.value.code


def test_every_answer_has_an_id_and_says_why(sc: InferenceClient) -> None:
    first, second = sc.predict("iris", [ROW]), sc.predict("iris", [ROW])
    assert first.prediction_id and first.prediction_id != second.prediction_id
    assert (first.arm, first.version) == ("single", "2")
    assert sc.predict("iris", [ROW], "1").arm == "requested"


def test_strategy_is_read_and_replaced(sc: InferenceClient) -> None:
    status = sc.get_strategy("iris")
    assert status.model == "iris" and status.strategy == StrategyConfig()
    config = StrategyConfig(kind="single", versions=["1"], seed=3)
    assert sc.set_strategy("iris", config).strategy == config
    answer = sc.predict("iris", [ROW])
    assert (answer.version, answer.arm) == ("1", "single")
    stats = {s.version: s for s in sc.get_strategy("iris").stats}
    assert stats["1"].calls == 1 and stats["1"].errors == 0


@pytest.mark.parametrize(
    ("config", "code"),
    [
        (StrategyConfig(kind="canary", versions=["1"]), ErrorCode.INVALID_INPUT),
        (StrategyConfig(kind="ab", versions=["1", "2"], weights=[1.0]), ErrorCode.INVALID_INPUT),
        (StrategyConfig(kind="bandit", versions=["1", "2"], epsilon=2.0), ErrorCode.INVALID_INPUT),
        (StrategyConfig(kind="shadow", versions=["1", "9"]), ErrorCode.NOT_FOUND),
    ],
    ids=["canary-one-version", "weights-mismatch", "epsilon-range", "unknown-version"],
)
def test_bad_strategies_are_refused(
    sc: InferenceClient, config: StrategyConfig, code: ErrorCode
) -> None:
    assert _code(sc.set_strategy, "iris", config) == code
    assert sc.get_strategy("iris").strategy == StrategyConfig()  # unchanged


def test_unknown_model(sc: InferenceClient) -> None:
    assert _code(sc.get_strategy, "nope") == ErrorCode.NOT_FOUND
    assert _code(sc.set_strategy, "nope", StrategyConfig()) == ErrorCode.NOT_FOUND
    assert _code(sc.promote, "nope") == ErrorCode.NOT_FOUND


def test_ab_is_sticky_per_caller_and_splits(sc: InferenceClient) -> None:
    sc.set_strategy("iris", StrategyConfig(kind="ab", versions=["1", "2"], seed=11))
    seen = {}
    for i in range(40):
        caller = f"user-{i}"
        versions = {sc.predict("iris", [ROW], caller=caller).version for _ in range(3)}
        assert len(versions) == 1, f"{caller} met {versions}"
        seen[caller] = versions.pop()
    shares = Counter(seen.values())
    assert 8 <= shares["1"] <= 32, shares  # 50/50 over 40 callers, far outside 4 sigma
    stats = {s.version: s.calls for s in sc.get_strategy("iris").stats}
    assert stats == {"1": 3 * shares["1"], "2": 3 * shares["2"]}


def test_canary_promote_and_rollback(sc: InferenceClient) -> None:
    canary = StrategyConfig(kind="canary", versions=["1", "2"], canary_percent=30, seed=5)
    sc.set_strategy("iris", canary)
    arms = Counter(sc.predict("iris", [ROW]).arm for _ in range(60))
    assert set(arms) == {"canary:stable", "canary:candidate"}
    assert 5 <= arms["canary:candidate"] <= 35, arms
    promoted = sc.promote("iris")
    assert promoted.strategy.kind == "single" and promoted.strategy.versions == ["2"]
    assert "promoted" in promoted.event
    assert _code(sc.rollback, "iris") == ErrorCode.FAILED_PRECONDITION
    sc.set_strategy("iris", canary)
    rolled = sc.rollback("iris")
    assert rolled.strategy.versions == ["1"] and "rolled back" in rolled.event
    assert sc.predict("iris", [ROW]).version == "1"


def test_shadow_answers_with_the_primary_and_scores_the_candidate(
    sc: InferenceClient,
) -> None:
    sc.set_strategy("iris", StrategyConfig(kind="shadow", versions=["1", "2"]))
    for _ in range(10):
        answer = sc.predict("iris", [ROW, [6.7, 3.0, 5.2, 2.3]])
        assert (answer.version, answer.arm) == ("1", "shadow:primary")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = {s.version: s for s in sc.get_strategy("iris").stats}
        if "2" in stats and stats["2"].shadow_calls == 10:
            break
        time.sleep(0.05)
    assert stats["1"].calls == 10 and stats["1"].shadow_calls == 0
    assert stats["2"].calls == 0 and stats["2"].shadow_calls == 10
    assert stats["2"].shadow_agreement == 1.0  # both versions agree on these two flowers


def test_bandit_learns_from_feedback(sc: InferenceClient) -> None:
    sc.set_strategy("iris", StrategyConfig(kind="bandit", versions=["1", "2"], epsilon=0.1, seed=2))
    late = Counter()
    for i in range(80):
        answer = sc.predict("iris", [ROW])
        assert answer.arm.startswith("bandit:")
        reward = 1.0 if answer.version == "2" else 0.2
        assert sc.feedback(answer.prediction_id, reward).version == answer.version
        if i >= 40:
            late[answer.version] += 1
    assert late["2"] >= 30, late
    stats = {s.version: s for s in sc.get_strategy("iris").stats}
    assert stats["2"].reward_mean == 1.0 and stats["2"].feedback >= 30


def test_feedback_errors(sc: InferenceClient) -> None:
    assert _code(sc.feedback, "no-such-id", 1.0) == ErrorCode.NOT_FOUND
    answer = sc.predict("iris", [ROW])
    assert _code(sc.feedback, answer.prediction_id, 1.5) == ErrorCode.INVALID_INPUT


def test_stored_batch_predictions(sc: InferenceClient) -> None:
    stored = sc.get_prediction(f"{JOB}/3")
    assert (stored.job, stored.input_id, stored.label) == (JOB, "3", "setosa")
    assert stored.probabilities == [0.9, 0.05, 0.05] and stored.version == "2"
    page = sc.list_predictions(JOB, limit=2, offset=1)
    assert [p.prediction_id for p in page] == [f"{JOB}/1", f"{JOB}/2"]
    assert [p.input_id for p in sc.list_predictions(JOB)] == [str(i) for i in range(12)]
    assert sc.list_predictions("no-such-job") == []
    assert _code(sc.get_prediction, f"{JOB}/99") == ErrorCode.NOT_FOUND
    assert _code(sc.list_predictions, JOB, 0) == ErrorCode.INVALID_INPUT
