"""What the HTTP protocols' codecs (``protobench.codec``) share: the client side, which is the
shipped client's own request encoder and answer reader (``HttpInferenceClient``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clients.http_transport import HttpAnswer, HttpInferenceClient
from protobench.codec import MODEL, Codec
from protobench.core.types import PredictResponse


def body_answer(body: bytes) -> HttpAnswer:
    """A 200 answer with this body and no headers."""
    return HttpAnswer(200, "OK", body)


def http_codec(
    client: HttpInferenceClient,
    server_encode: Callable[[Any], Any],
    *,
    answer: Callable[[Any], HttpAnswer] = body_answer,
    plain: bool = False,
    floor: Callable[[Any], object] | None = None,
) -> Codec:
    """``client`` is never connected: only its encoders and decoders run. ``answer`` turns the
    server's wire into the HTTP answer the client reads."""
    return Codec(
        server_encode,
        lambda rows: client._predict_request(MODEL, rows).body,
        lambda wire: PredictResponse.model_validate(client._answer("predict", answer(wire))),
        plain,
        floor,
    )
