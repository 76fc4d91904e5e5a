"""What one protocol does to the bytes of a predict, on each side, for the CPU breakdown
(``loadtests.breakdown``).

A protocol's spec names a function that builds its ``Codec`` (``ProtocolSpec.codec``), beside
its adapter (``servers/<name>_codec.py``). The codec runs the shipped adapter's and client's
own encoders and decoders, in this process and without a network, so each can be timed alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from protobench.core.types import PredictResponse

MODEL = "iris"
ROW = [5.1, 3.5, 1.4, 0.2]
UNUSED_TARGET = "127.0.0.1:9"  # given to a client made for its encoders: it never connects


@dataclass(frozen=True)
class Codec:
    """One predict's encodings. The *wire* is what travels: the body's bytes, or whatever the
    client reads the answer from (the body with a header, say); the codec's two sides agree on
    it."""

    server_encode: Callable[[Any], Any]
    """The core's answer as the adapter takes it -> the wire."""
    client_encode: Callable[[list[list[float]]], Any]
    """A predict of ``MODEL`` on these rows -> the request as the client sends it."""
    client_decode: Callable[[Any], PredictResponse]
    """The wire -> the answer as the client returns it."""
    plain: bool = False
    """The adapter takes the core's ``PredictAnswer`` (``predict(..., plain=True)``), not a
    ``PredictResponse``."""
    floor: Callable[[Any], object] | None = None
    """The floor over the wire, one call of the cheapest kind on the connected client it is
    given; None: ``client.health()`` (where that is a single call)."""
