"""Deployment strategies: which version answers a request that names none, and what each did.

One ``StrategyBook`` per server holds every model's ``StrategyConfig``, its per-version
statistics and a random generator seeded from the config (so a run is repeatable):

- ``single``: one version (or the model's default) answers everything.
- ``shadow``: the stable version answers; a copy of the request goes to the candidate on a
  background thread through a bounded queue (full queue: the copy is dropped and counted), so
  the candidate never adds to the caller's latency nor fails its call. Agreement and latency
  of the candidate are recorded.
- ``ab``: weighted split; a request with a caller key always gets the same version (a stable
  hash of seed and key), one without draws from the seeded generator.
- ``canary``: ``canary_percent`` of calls go to the candidate; ``promote`` makes it the only
  version, ``rollback`` drops it, and it is rolled back automatically once its error rate
  passes ``max_error_rate`` after ``min_calls`` calls.
- ``bandit``: epsilon-greedy or Thompson sampling over the versions, learning from the rewards
  ``feedback`` attaches to prediction ids.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic import ValidationError

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.models import FloatArray
from protobench.core.types import FeedbackResponse, StrategyConfig, StrategyStatus, VersionStats

log = logging.getLogger(__name__)

# (model, version, rows) -> the label of each row; raises when the version fails.
Scorer = Callable[[str, str, FloatArray], list[str]]

REMEMBERED_PREDICTIONS = 100_000  # prediction ids kept for feedback, oldest forgotten first


class Route(NamedTuple):
    version: str | None  # None: the model's default version
    arm: str


_DEFAULT_ROUTE = Route(None, "single")  # a model with no strategy set: its default version


@dataclass
class _Counters:
    calls: int = 0
    errors: int = 0
    latency_s: float = 0.0
    feedback: int = 0
    reward: float = 0.0
    shadow_calls: int = 0
    shadow_errors: int = 0
    shadow_rows: int = 0
    shadow_agreeing_rows: int = 0
    shadow_latency_s: float = 0.0

    def stats(self, version: str) -> VersionStats:
        answered = self.calls - self.errors
        shadowed = self.shadow_calls - self.shadow_errors
        return VersionStats(
            version=version,
            calls=self.calls,
            errors=self.errors,
            latency_ms_mean=1000 * self.latency_s / answered if answered else 0.0,
            feedback=self.feedback,
            reward_mean=self.reward / self.feedback if self.feedback else 0.0,
            shadow_calls=self.shadow_calls,
            shadow_errors=self.shadow_errors,
            shadow_agreement=self.shadow_agreeing_rows / self.shadow_rows
            if self.shadow_rows
            else 0.0,
            shadow_latency_ms_mean=1000 * self.shadow_latency_s / shadowed if shadowed else 0.0,
        )


@dataclass
class _ModelState:
    config: StrategyConfig
    rng: random.Random
    counters: dict[str, _Counters] = field(default_factory=dict)
    event: str = ""
    shadow_dropped: int = 0

    def of(self, version: str) -> _Counters:
        counters = self.counters.get(version)
        if counters is None:  # not setdefault: it would build a _Counters on every call
            counters = self.counters[version] = _Counters()
        return counters


class _ShadowJob(NamedTuple):
    model: str
    candidate: str
    x: FloatArray
    primary_labels: list[str]


def parse_config(fields: Mapping[str, Any]) -> StrategyConfig:
    """A StrategyConfig from decoded wire fields; INVALID_INPUT names the first bad field."""
    try:
        return StrategyConfig.model_validate(dict(fields))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "strategy"
        raise CoreError(
            ErrorCode.INVALID_INPUT, f"strategy.{where}: {first['msg']}", {"field": where}
        ) from None


def check_config(config: StrategyConfig, available: Sequence[str]) -> None:
    """Raise INVALID_INPUT (NOT_FOUND for an unknown version) unless the config can run."""

    def invalid(message: str) -> CoreError:
        return CoreError(ErrorCode.INVALID_INPUT, message, {"strategy": config.kind})

    arms = config.versions
    for version in arms:
        if version not in available:
            raise CoreError(
                ErrorCode.NOT_FOUND,
                f"no version {version!r}; available: {', '.join(available)}",
                {"version": version},
            )
    if len(set(arms)) != len(arms):
        raise invalid("versions must not repeat")
    expected = {"single": "at most 1", "shadow": "exactly 2", "canary": "exactly 2"}
    if config.kind == "single" and len(arms) > 1:
        raise invalid(f"single takes {expected['single']} version, got {len(arms)}")
    if config.kind in ("shadow", "canary") and len(arms) != 2:
        raise invalid(f"{config.kind} takes [stable, candidate], got {len(arms)} versions")
    if config.kind in ("ab", "bandit") and len(arms) < 2:
        raise invalid(f"{config.kind} takes two or more versions, got {len(arms)}")
    if config.weights and (config.kind != "ab" or len(config.weights) != len(arms)):
        raise invalid("weights are for ab only, one per version")
    if any(not w >= 0 for w in config.weights) or (config.weights and sum(config.weights) <= 0):
        raise invalid("weights must be non-negative numbers, not all zero")
    if not 0 <= config.canary_percent <= 100:
        raise invalid("canary_percent must be between 0 and 100")
    if not 0 <= config.max_error_rate <= 1:
        raise invalid("max_error_rate must be between 0 and 1")
    if config.min_calls < 1:
        raise invalid("min_calls must be at least 1")
    if not 0 <= config.epsilon <= 1:
        raise invalid("epsilon must be between 0 and 1")


def sticky_fraction(seed: int, caller: str) -> float:
    """A caller's place in [0, 1): the same for the same seed and key, in every process."""
    digest = hashlib.sha256(f"{seed}:{caller}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _pick_weighted(weights: Sequence[float], point: float) -> int:
    total = sum(weights)
    running = 0.0
    for index, weight in enumerate(weights):
        running += weight / total
        if point < running:
            return index
    return max(i for i, w in enumerate(weights) if w > 0)


class StrategyBook:
    """Strategies, statistics and remembered prediction ids of every model on one server."""

    def __init__(self, scorer: Scorer, *, shadow_queue: int = 1000) -> None:
        self._scorer = scorer
        self._lock = threading.Lock()
        self._models: dict[str, _ModelState] = {}
        self._predictions: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._shadow: queue.Queue[_ShadowJob] = queue.Queue(maxsize=shadow_queue)
        self._shadow_thread: threading.Thread | None = None

    # -- configuration ----------------------------------------------------------------------

    def _state(self, model: str) -> _ModelState:
        state = self._models.get(model)
        if state is None:
            state = _ModelState(StrategyConfig(), random.Random(0))
            self._models[model] = state
        return state

    def status(self, model: str) -> StrategyStatus:
        with self._lock:
            state = self._state(model)
            return StrategyStatus(
                model=model,
                strategy=state.config,
                stats=[c.stats(v) for v, c in sorted(state.counters.items())],
                event=state.event,
                shadow_dropped=state.shadow_dropped,
            )

    def set(self, model: str, config: StrategyConfig, available: Sequence[str]) -> None:
        """Replace the model's strategy and start its statistics afresh."""
        check_config(config, available)
        with self._lock:
            self._models[model] = _ModelState(config, random.Random(config.seed))

    def update(self, model: str, changes: Mapping[str, Any], available: Sequence[str]) -> None:
        """Change some fields of the model's strategy (the rest kept), checked as a whole; its
        statistics start afresh as with ``set``. Read, merge and replace under one lock, so
        two concurrent updates cannot lose one another's fields."""
        with self._lock:
            current = self._state(model).config
            config = parse_config({**current.model_dump(), **changes})
            check_config(config, available)
            self._models[model] = _ModelState(config, random.Random(config.seed))

    def check_unused(self, model: str, version: str) -> None:
        """FAILED_PRECONDITION when the model's strategy routes to ``version``."""
        with self._lock:
            config = self._state(model).config
        if version in config.versions:
            raise CoreError(
                ErrorCode.FAILED_PRECONDITION,
                f"version {version!r} is in the {config.kind} strategy of {model!r}; set another "
                "strategy first",
                {"model": model, "version": version, "strategy": config.kind},
            )

    def promote(self, model: str) -> None:
        """shadow or canary -> single on the candidate."""
        self._settle(model, keep=1, verb="promoted")

    def rollback(self, model: str) -> None:
        """shadow or canary -> single on the stable version."""
        self._settle(model, keep=0, verb="rolled back")

    def _settle(self, model: str, *, keep: int, verb: str, why: str = "") -> None:
        with self._lock:
            self._settle_locked(model, keep=keep, verb=verb, why=why)

    def _settle_locked(self, model: str, *, keep: int, verb: str, why: str = "") -> None:
        state = self._state(model)
        config = state.config
        if config.kind not in ("shadow", "canary"):
            raise CoreError(
                ErrorCode.FAILED_PRECONDITION,
                f"{model!r} runs the {config.kind} strategy; only shadow and canary have a "
                "candidate to promote or roll back",
                {"model": model, "strategy": config.kind},
            )
        kept, dropped = config.versions[keep], config.versions[1 - keep]
        state.config = StrategyConfig(kind="single", versions=[kept], seed=config.seed)
        state.event = f"{config.kind} {verb}: {dropped} -> {kept}" + (f" ({why})" if why else "")
        log.info("%s: %s", model, state.event)

    # -- routing and recording --------------------------------------------------------------

    def route(self, model: str, version: str | None, caller: str | None) -> Route:
        if version is not None:
            return Route(version, "requested")
        # single takes no lock: it draws nothing, and a strategy set meanwhile replaces the
        # state's (frozen) config whole, so this reads the old one or the new one.
        state = self._models.get(model)
        if state is None:
            return _DEFAULT_ROUTE
        config = state.config
        if config.kind == "single":
            return Route(config.versions[0], "single") if config.versions else _DEFAULT_ROUTE
        with self._lock:
            state = self._state(model)
            config = state.config
            arms = config.versions
            if config.kind == "single":
                return Route(arms[0] if arms else None, "single")
            if config.kind == "shadow":
                return Route(arms[0], "shadow:primary")
            if config.kind == "canary":
                if state.rng.random() * 100 < config.canary_percent:
                    return Route(arms[1], "canary:candidate")
                return Route(arms[0], "canary:stable")
            if config.kind == "ab":
                weights = config.weights or [1.0] * len(arms)
                point = sticky_fraction(config.seed, caller) if caller else state.rng.random()
                index = _pick_weighted(weights, point)
                return Route(arms[index], f"ab:{index}")
            return self._bandit_route(state)

    def _bandit_route(self, state: _ModelState) -> Route:
        config, rng = state.config, state.rng
        arms = config.versions
        if config.bandit == "thompson":
            draws = []
            for version in arms:
                c = state.of(version)
                draws.append(rng.betavariate(1 + c.reward, 1 + c.feedback - c.reward))
            return Route(arms[draws.index(max(draws))], "bandit:sample")
        if rng.random() < config.epsilon:
            return Route(arms[rng.randrange(len(arms))], "bandit:explore")
        untried = [v for v in arms if state.of(v).feedback == 0]
        if untried:
            return Route(untried[0], "bandit:explore")
        means = [state.of(v).reward / state.of(v).feedback for v in arms]
        return Route(arms[means.index(max(means))], "bandit:exploit")

    def failed(self, model: str, version: str) -> None:
        """Count a failed call; a failing canary past its threshold is rolled back here."""
        with self._lock:
            state = self._state(model)
            counters = state.of(version)
            counters.calls += 1
            counters.errors += 1
            config = state.config
            if config.kind != "canary" or version != config.versions[1]:
                return
            rate = counters.errors / counters.calls
            if counters.calls >= config.min_calls and rate > config.max_error_rate:
                limit = config.max_error_rate
                why = f"error rate {rate:.0%} over {counters.calls} calls > {limit:.0%}"
                self._settle_locked(model, keep=0, verb="rolled back automatically", why=why)

    def answered(
        self,
        model: str,
        version: str,
        latency_s: float,
        x: FloatArray,
        labels: list[str],
        prediction_id: str,
    ) -> None:
        """A call that answered, under one lock (three acquisitions per predict before): count
        it, queue a copy for the shadow candidate if the model runs shadow (never blocks), and
        remember the prediction for ``feedback``."""
        with self._lock:
            state = self._state(model)
            counters = state.of(version)
            counters.calls += 1
            counters.latency_s += latency_s
            if state.config.kind == "shadow":
                self._shadow_locked(state, model, x, labels)
            self._predictions[prediction_id] = (model, version)
            if len(self._predictions) > REMEMBERED_PREDICTIONS:
                self._predictions.popitem(last=False)

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        if not 0.0 <= reward <= 1.0:
            raise CoreError(
                ErrorCode.INVALID_INPUT,
                f"reward must be between 0 and 1, got {reward}",
                {"reward": reward},
            )
        with self._lock:
            remembered = self._predictions.get(prediction_id)
            if remembered is None:
                raise CoreError(
                    ErrorCode.NOT_FOUND,
                    f"no recent prediction {prediction_id!r} on this server",
                    {"prediction_id": prediction_id},
                )
            model, version = remembered
            counters = self._state(model).of(version)
            counters.feedback += 1
            counters.reward += reward
        return FeedbackResponse(
            prediction_id=prediction_id, model=model, version=version, reward=reward
        )

    # -- shadow -----------------------------------------------------------------------------

    def _shadow_locked(
        self, state: _ModelState, model: str, x: FloatArray, primary_labels: list[str]
    ) -> None:
        """Queue a copy for the shadow candidate without blocking; the lock is held."""
        job = _ShadowJob(model, state.config.versions[1], x, primary_labels)
        if self._shadow_thread is None:
            self._shadow_thread = threading.Thread(
                target=self._shadow_worker, name="protobench-shadow", daemon=True
            )
            self._shadow_thread.start()
        try:
            self._shadow.put_nowait(job)
        except queue.Full:
            state.shadow_dropped += 1

    def _shadow_worker(self) -> None:
        while True:
            job = self._shadow.get()
            started = time.perf_counter()
            try:
                labels = self._scorer(job.model, job.candidate, job.x)
            except Exception:
                log.warning("shadow %s %s failed", job.model, job.candidate, exc_info=True)
                labels = None
            elapsed = time.perf_counter() - started
            with self._lock:
                counters = self._state(job.model).of(job.candidate)
                counters.shadow_calls += 1
                if labels is None:
                    counters.shadow_errors += 1
                else:
                    counters.shadow_latency_s += elapsed
                    counters.shadow_rows += len(labels)
                    agreeing = sum(a == b for a, b in zip(labels, job.primary_labels, strict=True))
                    counters.shadow_agreeing_rows += agreeing
            self._shadow.task_done()

    def drain_shadow(self, timeout: float = 5.0) -> None:
        """Wait until queued shadow copies are scored (for tests and clean shutdowns)."""
        deadline = time.monotonic() + timeout
        while self._shadow.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
