"""What the playground does, without the page: predict over one protocol and record the exchange,
compare every protocol, drive a model's strategy, send a bounded burst. The gradio page in
``app`` only lays these out."""

from __future__ import annotations

import io
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from clients import connect
from clients.base import ClientError, InferenceClient
from protobench.core.types import PredictResponse, StrategyConfig, StrategyStatus
from protobench.playground.exchange import Exchange, record

MAX_BURST = 500  # the load button stays a demonstration; big runs belong to `protobench bench`
IRIS = "iris"
DIGITS = "digits"


@dataclass(frozen=True)
class Target:
    protocol: str
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Outcome:
    """One prediction as the playground shows it."""

    protocol: str
    answer: PredictResponse | None
    error: ClientError | None
    latency_ms: float  # a second call on a warm, direct connection
    exchange: Exchange

    @property
    def label(self) -> str:
        if self.answer is None:
            return f"{self.error.code.value}" if self.error else "?"
        return self.answer.predictions[0].label


class Playground:
    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = {t.protocol: t for t in targets}
        self._clients: dict[str, InferenceClient] = {}
        self._locks = {t.protocol: threading.Lock() for t in targets}

    @property
    def protocols(self) -> list[str]:
        return list(self.targets)

    def _client(self, protocol: str) -> InferenceClient:
        if protocol not in self._clients:
            target = self.targets[protocol]
            self._clients[protocol] = connect(protocol, target.address, timeout=10.0)
        return self._clients[protocol]

    def _timed(self, protocol: str, call: Callable[[InferenceClient], object]) -> float:
        """Milliseconds of one call on the protocol's warm connection (the first call warms)."""
        with self._locks[protocol]:
            client = self._client(protocol)
            try:
                call(client)
                started = time.perf_counter()
                call(client)
            except ClientError:
                return float("nan")
            return (time.perf_counter() - started) * 1000.0

    def predict(self, protocol: str, call: Callable[[InferenceClient], object]) -> Outcome:
        target = self.targets[protocol]
        exchange, answer = record(protocol, target.host, target.port, call)
        latency = self._timed(protocol, call)
        if isinstance(answer, ClientError):
            return Outcome(protocol, None, answer, latency, exchange)
        assert isinstance(answer, PredictResponse)
        return Outcome(protocol, answer, None, latency, exchange)

    def predict_features(self, protocol: str, features: Sequence[float]) -> Outcome:
        row = [float(v) for v in features]
        return self.predict(protocol, lambda c: c.predict(IRIS, [row]))

    def predict_image(self, protocol: str, png: bytes) -> Outcome:
        return self.predict(protocol, lambda c: c.predict_image(DIGITS, png))

    def compare(self, features: Sequence[float]) -> list[Outcome]:
        return [self.predict_features(protocol, features) for protocol in self.protocols]

    # -- strategies ----------------------------------------------------------------------------

    def strategy(self, protocol: str, model: str) -> StrategyStatus:
        with self._locks[protocol]:
            return self._client(protocol).get_strategy(model)

    def set_strategy(self, protocol: str, model: str, config: StrategyConfig) -> StrategyStatus:
        with self._locks[protocol]:
            return self._client(protocol).set_strategy(model, config)

    def burst(self, protocol: str, features: Sequence[float], n: int) -> Iterator[float]:
        """``n`` predicts (at most MAX_BURST), each from a random caller so an A/B split shows;
        yields each call's milliseconds (NaN for a failed call) as it completes."""
        row = [float(v) for v in features]
        rng = random.Random()
        for _ in range(max(0, min(n, MAX_BURST))):
            caller = f"student-{rng.randrange(1_000_000)}"
            # The lock is released before each yield: a consumer that pauses between items
            # (the page sends an update) must not hold the protocol's client from other events.
            with self._locks[protocol]:
                client = self._client(protocol)
                started = time.perf_counter()
                try:
                    client.predict(IRIS, [row], caller=caller)
                    ms = (time.perf_counter() - started) * 1000.0
                except ClientError:
                    ms = float("nan")
            yield ms

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


def png_bytes(image: object) -> bytes:
    """A PIL image from the sketchpad or an upload as PNG, flattened on white (the sketchpad's
    transparent background would otherwise read as black ink)."""
    from PIL import Image

    assert isinstance(image, Image.Image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGBA", image.size, "white")
        flat.alpha_composite(image)
        image = flat
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="PNG")
    return buffer.getvalue()
