"""The interface every protocol client implements, and the one error they all raise.

A client is synchronous (Locust users run on gevent), holds one connection or channel for its
lifetime, and turns every protocol error back into ``ClientError`` with a core ``ErrorCode`` —
so a caller, a test or a load test never needs to know which protocol it talks.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

from protobench.core.errors import ErrorCode
from protobench.core.types import (
    FeedbackResponse,
    Health,
    ModelMetadata,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)


class ClientError(Exception):
    """A failed call: the server's error, or a transport failure mapped to the nearest code.

    Connection failures are ``NOT_READY`` (gRPC's UNAVAILABLE means both) and client-side
    timeouts are ``DEADLINE_EXCEEDED``.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        protocol_status: object = None,
    ) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}
        self.protocol_status = protocol_status  # what the wire said: 422, "INVALID_ARGUMENT", ...


Prepared = Callable[[], object]
"""A call encoded once, sent again on every invocation (see ``InferenceClient.prepare``)."""


def check_answer(operation: str, data: Any) -> Any:
    """A load test's check of a raw JSON answer, cheaper than validating it into core types:
    every prediction holds a label, a model has a name. Raises ``ClientError(INTERNAL)``."""
    if operation in ("predict", "predict_image"):
        predictions = data.get("predictions") if isinstance(data, dict) else None
        good = (
            isinstance(predictions, list)
            and bool(predictions)
            and all(isinstance(p, dict) and isinstance(p.get("label"), str) for p in predictions)
        )
    elif operation == "get_model":
        good = isinstance(data, dict) and isinstance(data.get("name"), str)
    else:
        good = isinstance(data, list) and all(isinstance(m, dict) and "name" in m for m in data)
    if not good:
        raise ClientError(ErrorCode.INTERNAL, f"{operation}: unexpected answer {data!r:.200}")
    return data


class NotOffered(NotImplementedError):
    """The protocol has no place for this operation (a standard protocol such as the Open
    Inference Protocol carries only inference and health); not a server error."""

    def __init__(self, protocol: str, operation: str, reason: str) -> None:
        super().__init__(f"{protocol} does not offer {operation}: {reason}")
        self.protocol = protocol
        self.operation = operation


class InferenceClient(ABC):
    """One server, one connection, the core operations."""

    protocol: str

    def __init__(self, target: str, *, timeout: float = 10.0) -> None:
        self.target = target
        self.timeout = timeout

    @abstractmethod
    def list_models(self) -> list[ModelMetadata]: ...

    @abstractmethod
    def get_model(self, name: str) -> ModelMetadata: ...

    @abstractmethod
    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        """``caller`` is the A/B stickiness key (a request field on every protocol)."""

    @abstractmethod
    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse: ...

    @abstractmethod
    def delete_version(self, model: str, version: str) -> None:
        """Unload a version from the server (REST answers 204 with no body, so none returns)."""

    @abstractmethod
    def health(self) -> Health: ...

    @abstractmethod
    def close(self) -> None: ...

    def prepare(self, operation: str, **arguments: Any) -> Prepared:
        """``operation`` (a method name) with its arguments, for sending again and again (load
        tests): every call of the result sends it and raises ClientError when the answer is an
        error or lacks what was asked. This default encodes and decodes fully on every call;
        the HTTP clients encode once and only check the answer."""
        method: Prepared = functools.partial(getattr(self, operation), **arguments)
        return method

    # -- deployment strategies and stored batch predictions ------------------------------------

    @abstractmethod
    def get_strategy(self, model: str) -> StrategyStatus: ...

    @abstractmethod
    def set_strategy(self, model: str, strategy: StrategyConfig) -> StrategyStatus: ...

    @abstractmethod
    def promote(self, model: str) -> StrategyStatus: ...

    @abstractmethod
    def rollback(self, model: str) -> StrategyStatus: ...

    @abstractmethod
    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse: ...

    @abstractmethod
    def get_prediction(self, prediction_id: str) -> StoredPrediction: ...

    @abstractmethod
    def list_predictions(
        self, job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def http_base_url(target: str) -> str:
    """``host:port`` or a full URL -> a base URL without a trailing slash."""
    if "://" not in target:
        target = f"http://{target}"
    return target.rstrip("/")
