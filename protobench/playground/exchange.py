"""One call, recorded as it crossed the wire, for the playground's "on the wire" view.

The call goes through the same relay that counts bytes for the bench (``loadtests.wire``), on a
fresh client. The client makes the call once unrecorded, then again recorded: the second
exchange is the steady state a running application sees (connection open, HTTP/2 header tables
warm), and its bytes are the request and response sizes the playground shows. The bytes of the
first call, connection set-up included, are reported apart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from clients import connect
from clients.base import ClientError, InferenceClient
from loadtests.wire import CountingRelay
from protobench.playground.wire_text import render, transport_of

SETTLE_S = 0.05  # trailing frames (HTTP/2 WINDOW_UPDATE, PING) arrive just after the answer


@dataclass
class _Recording:
    """Every byte of each direction in order, and where the recorded call starts."""

    up: bytearray = field(default_factory=bytearray)
    down: bytearray = field(default_factory=bytearray)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tap(self, to_server: bool, data: bytes) -> None:
        with self.lock:
            (self.up if to_server else self.down).extend(data)

    def marks(self) -> tuple[int, int]:
        with self.lock:
            return len(self.up), len(self.down)


@dataclass(frozen=True)
class Exchange:
    """The recorded call: what each side sent, rendered for reading, and its byte counts."""

    protocol: str
    request_text: str
    response_text: str
    request_bytes: int
    response_bytes: int
    setup_bytes: int  # both directions of the first, unrecorded call (connection set-up)


def record(
    protocol: str, host: str, port: int, call: Callable[[InferenceClient], object]
) -> tuple[Exchange, object]:
    """Run ``call`` twice on a fresh client through a recording relay; return the second
    exchange and its answer (or the ClientError it raised, which callers show as the answer)."""
    recording = _Recording()
    with CountingRelay(host, port, transport=transport_of(protocol)) as relay:
        relay.tap = recording.tap
        with connect(protocol, f"127.0.0.1:{relay.port}", timeout=10.0) as client:
            _attempt(call, client)
            time.sleep(SETTLE_S)
            up0, down0 = recording.marks()
            answer = _attempt(call, client)
            time.sleep(SETTLE_S)
    up, down = bytes(recording.up), bytes(recording.down)
    request_text, response_text = render(protocol, up, down, up0, down0)
    exchange = Exchange(
        protocol=protocol,
        request_text=request_text,
        response_text=response_text,
        request_bytes=len(up) - up0,
        response_bytes=len(down) - down0,
        setup_bytes=up0 + down0,
    )
    return exchange, answer


def _attempt(call: Callable[[InferenceClient], object], client: InferenceClient) -> object:
    try:
        return call(client)
    except ClientError as error:
        return error
