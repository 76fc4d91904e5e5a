"""The one place with inference logic; every protocol adapter calls this and nothing else."""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, Literal, Protocol, overload

import numpy as np

from protobench.core.auth import require_authenticated
from protobench.core.capacity import ModelCost
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.images import image_to_features
from protobench.core.models import FloatArray, ServedModel
from protobench.core.prediction_store import PAGE_DEFAULT, check_page, open_store
from protobench.core.registry import ModelRegistry
from protobench.core.settings import Settings
from protobench.core.strategies import Route, StrategyBook, parse_config
from protobench.core.types import (
    DeleteVersionResponse,
    FeedbackResponse,
    Health,
    ModelMetadata,
    PredictAnswer,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)

# The operations every protocol exposes; the parity test holds each adapter to this list.
OPERATIONS = (
    "list_models",
    "get_model",
    "predict",
    "predict_image",
    "delete_version",
    "health",
    # deployment strategies (protobench.core.strategies)
    "get_strategy",
    "set_strategy",
    "promote",
    "rollback",
    "feedback",
    # batch predictions stored by `protobench batch`
    "get_prediction",
    "list_predictions",
)

Instances = Sequence[Sequence[float]] | FloatArray
_FLOAT64 = np.dtype(np.float64)  # the native double, which needs no conversion
Outcome = Literal["ok", "error"]


def new_prediction_id() -> str:
    """The id of one online prediction (what ``feedback`` names): 128 random bits as 32 hex
    digits, the only place its format is written."""
    return os.urandom(16).hex()  # what secrets.token_hex(16) returns, one call fewer


class Observer(Protocol):
    """Told about every call and every model computation: what servers.metrics exports."""

    def request_started(self, operation: str) -> None: ...

    def request_finished(self, operation: str, outcome: Outcome, seconds: float) -> None: ...

    def inference_finished(
        self, model: str, version: str, outcome: Outcome, seconds: float
    ) -> None: ...


class RequestCounters:
    """Calls served, per operation and outcome: what a balancer's per-replica share is read from.

    One lock around a dict increment costs well under a microsecond, so every call is counted.
    An ``observer`` (the metrics port's) also gets each call's duration and the calls in flight.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, Outcome], int] = {}
        self.observer: Observer | None = None

    def add(self, operation: str, outcome: Outcome) -> None:
        with self._lock:
            key = (operation, outcome)
            self._counts[key] = self._counts.get(key, 0) + 1

    def track(self, operation: str) -> _Tracked:
        """Count the enclosed call as ``ok``, or as ``error`` if it raises (then re-raise)."""
        return _Tracked(self, operation)

    def inference(self, model: str, version: str, outcome: Outcome, seconds: float) -> None:
        if self.observer is not None:
            self.observer.inference_finished(model, version, outcome, seconds)

    def snapshot(self) -> dict[tuple[str, Outcome], int]:
        with self._lock:
            return dict(self._counts)


class _Tracked:
    """``RequestCounters.track``'s context manager: a plain class, about a microsecond cheaper
    per call than a ``contextlib.contextmanager`` generator."""

    __slots__ = ("counters", "observer", "operation", "started")

    def __init__(self, counters: RequestCounters, operation: str) -> None:
        self.counters = counters
        self.operation = operation
        self.observer = counters.observer
        self.started = 0.0

    def __enter__(self) -> None:
        if self.observer is not None:
            self.started = time.perf_counter()
            self.observer.request_started(self.operation)

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        outcome: Outcome = "ok" if kind is None else "error"
        self.counters.add(self.operation, outcome)
        if self.observer is not None:
            seconds = time.perf_counter() - self.started
            self.observer.request_finished(self.operation, outcome, seconds)


class InferenceService:
    """Validation, version choice, prediction, metadata and readiness, for any transport.

    Prediction comes in two flavours that differ only in how the synthetic model delay and
    the model's workers are waited for: ``predict`` blocks the calling thread (for thread-pool
    servers), ``apredict`` awaits (for event-loop servers). Both run the same validation and
    computation. A call is validated before it waits for a worker, so a bad one costs the
    model nothing (``protobench.core.capacity``).
    """

    def __init__(self, settings: Settings, registry: ModelRegistry | None = None) -> None:
        self.settings = settings
        self.registry = registry or ModelRegistry(settings.models_dir)
        self._ready = threading.Event()
        self._delay_s = settings.model_delay_ms / 1000.0
        self.model_cost = ModelCost(
            settings.model_workers,
            settings.model_service_ms / 1000.0,
            settings.model_cpu_ms / 1000.0,
        )
        self.counters = RequestCounters()
        self.strategies = StrategyBook(self._labels_of, shadow_queue=settings.shadow_queue)
        self.predictions = open_store(settings.predictions_url)

    @property
    def served_by(self) -> str:
        return self.settings.replica_name

    @property
    def min_predict_s(self) -> float:
        """The least time a prediction takes (the delay plus the model's own), queueing aside."""
        return self._delay_s + self.model_cost.min_s

    # -- readiness -------------------------------------------------------------------------

    def load(self) -> None:
        """Load (training on first use) every model; a no-op once loaded, so a server may load
        before it listens and its adapter's background load then has nothing left to do."""
        if self._ready.is_set():
            return
        self.registry.load()
        self._ready.set()

    def load_in_background(self) -> threading.Thread:
        """Start loading (and, on first use, training) so the server can answer health at once."""
        thread = threading.Thread(target=self.load, name="protobench-load", daemon=True)
        thread.start()
        return thread

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def _require_ready(self) -> None:
        """Every operation but health starts here: the caller's key first, then readiness."""
        if self.settings.api_key is not None:
            require_authenticated(self.settings.api_key)
        if not self._ready.is_set():
            raise CoreError(
                ErrorCode.NOT_READY, "models are still loading; retry in a moment", {"retry": True}
            )

    def health(self) -> Health:
        with self.counters.track("health"):
            return Health(
                live=True,
                ready=self.ready,
                served_by=self.served_by,
                models=self.registry.names() if self.ready else [],
            )

    # -- metadata --------------------------------------------------------------------------

    def list_models(self) -> list[ModelMetadata]:
        with self.counters.track("list_models"):
            self._require_ready()
            return [self.registry.metadata(name) for name in self.registry.names()]

    def get_model(self, name: str) -> ModelMetadata:
        with self.counters.track("get_model"):
            self._require_ready()
            return self.registry.metadata(name)

    def delete_version(self, model: str, version: str) -> DeleteVersionResponse:
        with self.counters.track("delete_version"):
            self._require_ready()
            self.strategies.check_unused(model, version)
            remaining = self.registry.delete(model, version)
            return DeleteVersionResponse(model=model, deleted_version=version, versions=remaining)

    # -- deployment strategies ---------------------------------------------------------------

    def get_strategy(self, model: str) -> StrategyStatus:
        with self.counters.track("get_strategy"):
            self._require_ready()
            self.registry.metadata(model)  # NOT_FOUND for an unknown model
            return self.strategies.status(model)

    def set_strategy(
        self, model: str, strategy: StrategyConfig | Mapping[str, Any]
    ) -> StrategyStatus:
        """Replace the model's strategy; its per-version statistics start from zero.

        Adapters pass the decoded wire fields: the core checks them (``parse_config``), so a
        bad field gets the same message on every protocol."""
        with self.counters.track("set_strategy"):
            self._require_ready()
            if not isinstance(strategy, StrategyConfig):
                strategy = parse_config(strategy)
            self.strategies.set(model, strategy, self.registry.metadata(model).versions)
            return self.strategies.status(model)

    def update_strategy(self, model: str, changes: Mapping[str, Any]) -> StrategyStatus:
        """Change part of the model's strategy, e.g. ``{"canary_percent": 25}``; the merged
        strategy is checked like a new one. REST's PATCH (HTTP's verb for a partial change);
        the other protocols send the whole strategy with set_strategy."""
        with self.counters.track("update_strategy"):
            self._require_ready()
            if not isinstance(changes, Mapping) or not changes:
                raise CoreError(
                    ErrorCode.INVALID_INPUT,
                    "send an object with the strategy fields to change, e.g. "
                    '{"canary_percent": 25}',
                )
            self.strategies.update(model, changes, self.registry.metadata(model).versions)
            return self.strategies.status(model)

    def promote(self, model: str) -> StrategyStatus:
        """shadow or canary: the candidate becomes the only version."""
        with self.counters.track("promote"):
            self._require_ready()
            self.registry.metadata(model)
            self.strategies.promote(model)
            return self.strategies.status(model)

    def rollback(self, model: str) -> StrategyStatus:
        """shadow or canary: the stable version becomes the only version."""
        with self.counters.track("rollback"):
            self._require_ready()
            self.registry.metadata(model)
            self.strategies.rollback(model)
            return self.strategies.status(model)

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        """A reward in [0, 1] for an earlier prediction of this server; bandits learn from it."""
        with self.counters.track("feedback"):
            self._require_ready()
            return self.strategies.feedback(prediction_id, reward)

    # -- stored batch predictions ------------------------------------------------------------

    def get_prediction(self, prediction_id: str) -> StoredPrediction:
        """One row a batch job stored; its id is ``<job>/<input id>``."""
        with self.counters.track("get_prediction"):
            self._require_ready()
            return self.predictions.get(prediction_id)

    def list_predictions(
        self, job: str, limit: int = PAGE_DEFAULT, offset: int = 0
    ) -> list[StoredPrediction]:
        """A page of a batch job's stored rows, in the order of the input file."""
        with self.counters.track("list_predictions"):
            self._require_ready()
            check_page(limit, offset)
            return self.predictions.page(job, limit, offset)

    async def aget_prediction(self, prediction_id: str) -> StoredPrediction:
        """``get_prediction`` on a worker thread: a database read must not stall an event loop."""
        return await asyncio.to_thread(self.get_prediction, prediction_id)

    async def alist_predictions(
        self, job: str, limit: int = PAGE_DEFAULT, offset: int = 0
    ) -> list[StoredPrediction]:
        return await asyncio.to_thread(self.list_predictions, job, limit, offset)

    # -- prediction ------------------------------------------------------------------------

    @overload
    def predict(
        self,
        model: str,
        instances: Instances,
        version: str | None = None,
        caller: str | None = None,
        *,
        probabilities: bool = True,
        plain: Literal[False] = False,
    ) -> PredictResponse: ...

    @overload
    def predict(
        self,
        model: str,
        instances: Instances,
        version: str | None = None,
        caller: str | None = None,
        *,
        probabilities: bool = True,
        plain: Literal[True],
    ) -> PredictAnswer: ...

    def predict(
        self,
        model: str,
        instances: Instances,
        version: str | None = None,
        caller: str | None = None,
        *,
        probabilities: bool = True,
        plain: bool = False,
    ) -> PredictResponse | PredictAnswer:
        """``caller`` keys A/B stickiness: one caller always meets the same version.
        ``plain``: answer the fields as plain values (``PredictAnswer``), for an adapter that
        encodes them itself; no ``PredictResponse`` is built then."""
        with self.counters.track("predict"):
            if self._delay_s:
                time.sleep(self._delay_s)
            served, x, route = self._checked(model, instances, version, caller)
            if self.model_cost.configured:
                answer = self.model_cost.run(
                    partial(self._answer_routed, served, x, probabilities, route)
                )
            else:
                answer = self._answer_routed(served, x, probabilities, route)
        return answer if plain else answer.response()

    @overload
    async def apredict(
        self,
        model: str,
        instances: Instances,
        version: str | None = None,
        caller: str | None = None,
        *,
        probabilities: bool = True,
        plain: Literal[False] = False,
    ) -> PredictResponse: ...

    @overload
    async def apredict(
        self,
        model: str,
        instances: Instances,
        version: str | None = None,
        caller: str | None = None,
        *,
        probabilities: bool = True,
        plain: Literal[True],
    ) -> PredictAnswer: ...

    async def apredict(
        self,
        model: str,
        instances: Instances,
        version: str | None = None,
        caller: str | None = None,
        *,
        probabilities: bool = True,
        plain: bool = False,
    ) -> PredictResponse | PredictAnswer:
        with self.counters.track("predict"):
            if self._delay_s:
                await asyncio.sleep(self._delay_s)
            served, x, route = self._checked(model, instances, version, caller)
            if self.model_cost.configured:
                answer = await self.model_cost.arun(
                    partial(self._answer_routed, served, x, probabilities, route)
                )
            else:
                answer = self._answer_routed(served, x, probabilities, route)
        return answer if plain else answer.response()

    def predict_image(
        self, model: str, image: bytes, version: str | None = None, *, probabilities: bool = True
    ) -> PredictResponse:
        with self.counters.track("predict_image"):
            if self._delay_s:
                time.sleep(self._delay_s)
            compute = self._image_job(model, image, version, probabilities)
            return self.model_cost.run(compute).response()

    async def apredict_image(
        self, model: str, image: bytes, version: str | None = None, *, probabilities: bool = True
    ) -> PredictResponse:
        with self.counters.track("predict_image"):
            if self._delay_s:
                await asyncio.sleep(self._delay_s)
            compute = self._image_job(model, image, version, probabilities)
            return (await self.model_cost.arun(compute)).response()

    def _checked(
        self, model: str, instances: Instances, version: str | None, caller: str | None
    ) -> tuple[ServedModel, FloatArray, Route]:
        """Validate and route, before the call waits for a model worker: the version that
        answers and the instances as its input matrix."""
        self._require_ready()
        route = self.strategies.route(model, version, caller)
        served = self.registry.get(model, route.version)
        return served, self._as_matrix(instances, served), route

    def _image_job(
        self, model: str, image: bytes, version: str | None, probabilities: bool
    ) -> Callable[[], PredictAnswer]:
        self._require_ready()
        route = self.strategies.route(model, version, None)
        served = self.registry.get(model, route.version)
        if served.card.task != "image-classification":
            raise CoreError(
                ErrorCode.INVALID_INPUT,
                f"model {model!r} does not take images; send features with predict instead",
                {"model": model, "task": served.card.task},
            )
        x = image_to_features(image, self.settings.max_image_bytes, self.settings.max_image_pixels)
        return partial(self._answer_routed, served, x, probabilities, route)

    def _answer_routed(
        self, served: ServedModel, x: FloatArray, probabilities: bool, route: Route
    ) -> PredictAnswer:
        """Answer with the routed version, count it for its strategy, send the shadow a copy.

        Input errors were raised before this point, so an exception here is the version's
        own failure: it counts against the version (a canary may be rolled back for it)."""
        model, version = served.card.name, served.card.version
        started = time.perf_counter()
        try:
            labels, probabilities_rows = self._scored(served, x, probabilities)
        except CoreError:
            raise  # the input overflowed the model's arithmetic: the caller's error
        except Exception as exc:
            elapsed = time.perf_counter() - started
            self.counters.inference(model, version, "error", elapsed)
            self.strategies.failed(model, version)
            raise CoreError(
                ErrorCode.INTERNAL,
                f"version {version} of {model!r} failed to answer",
                {"model": model, "version": version},
            ) from exc
        elapsed = time.perf_counter() - started
        if self.counters.observer is not None:
            self.counters.inference(model, version, "ok", elapsed)
        prediction_id = new_prediction_id()
        self.strategies.answered(model, version, elapsed, x, labels, prediction_id)
        return PredictAnswer(
            model, version, self.served_by, labels, probabilities_rows, prediction_id, route.arm
        )

    def _labels_of(self, model: str, version: str, x: FloatArray) -> list[str]:
        """The shadow's scorer: labels only, as the fast path computes them."""
        served = self.registry.get(model, version)
        labels = served.card.labels
        return [labels[i] for i in served.network.logits(x).argmax(axis=1).tolist()]

    @staticmethod
    def _scored(
        served: ServedModel, x: FloatArray, probabilities: bool
    ) -> tuple[list[str], list[list[float]]]:
        """The model's labels and, if asked, probabilities (empty rows otherwise), per row.

        Finite features can still be too large for the model's arithmetic (1e308 overflows a
        dot product): its scores are then NaN or infinite and its label meaningless, so the
        call is refused as the input's error rather than answered wrongly."""
        network = served.network
        scores = network.predict_proba(x) if probabilities else network.logits(x)
        if not math.isfinite(np.add.reduce(scores, axis=None)) and not np.isfinite(scores).all():
            row = int(np.argwhere(~np.isfinite(scores))[0][0])
            raise CoreError(
                ErrorCode.INVALID_INPUT,
                f"instance {row} is too large for the model: its scores overflowed; send "
                "features of the size the model was trained on",
                {"instance": row},
            )
        names = served.card.labels
        labels = [names[i] for i in scores.argmax(axis=1).tolist()]
        return labels, scores.tolist() if probabilities else [[] for _ in labels]

    def _as_matrix(self, instances: Any, served: ServedModel) -> FloatArray:
        """Check shape, count, types and finiteness; a numpy array or nested lists of numbers."""
        n_features = served.network.n_features
        if isinstance(instances, np.ndarray):
            raw = instances
        else:
            # A list (what every decoder gives) skips the abstract-class check's ~0.5 µs.
            if type(instances) is not list and (
                not isinstance(instances, Sequence) or isinstance(instances, str | bytes)
            ):
                raise CoreError(ErrorCode.INVALID_INPUT, "instances must be a list of rows")
            self._check_count(len(instances))
            try:
                raw = np.asarray(instances)
            except (ValueError, TypeError) as exc:
                raise CoreError(
                    ErrorCode.INVALID_INPUT,
                    f"instances must be rows of {n_features} numbers each, all the same length",
                    {"expected_features": n_features},
                ) from exc
        if raw.dtype.kind not in "iuf":
            raise CoreError(
                ErrorCode.INVALID_INPUT,
                f"instances must hold numbers only (got {raw.dtype.name} values)",
                {"expected_features": n_features},
            )
        if raw.ndim != 2 or raw.shape[1] != n_features:
            raise CoreError(
                ErrorCode.INVALID_INPUT,
                f"each instance must have {n_features} features; got shape {list(raw.shape)}",
                {"expected_features": n_features, "shape": list(raw.shape)},
            )
        if type(instances) is not list:  # a list's length was checked before converting it
            self._check_count(raw.shape[0])
        x = raw if raw.dtype is _FLOAT64 else raw.astype(np.float64)
        # One reduction instead of isfinite's array and its reduction: a NaN or an infinity
        # makes the sum NaN or infinite; a sum that overflowed from finite values is told
        # apart by the exact check.
        if not math.isfinite(np.add.reduce(x, axis=None)) and not np.isfinite(x).all():
            row = int(np.argwhere(~np.isfinite(x))[0][0])
            raise CoreError(
                ErrorCode.INVALID_INPUT,
                f"instance {row} holds NaN or infinity; features must be finite numbers",
                {"instance": row},
            )
        return x

    def _check_count(self, n: int) -> None:
        if n == 0:
            raise CoreError(ErrorCode.INVALID_INPUT, "instances is empty; send at least one row")
        if n > self.settings.max_batch:
            raise CoreError(
                ErrorCode.TOO_LARGE,
                f"{n} instances in one call; the limit is {self.settings.max_batch}",
                {"instances": n, "limit": self.settings.max_batch},
            )
