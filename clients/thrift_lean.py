"""A Thrift prepared call's own wire work (load tests): its reply read from the bytes received,
and under gevent the wait for them.

Most of a Locust Thrift user's CPU goes to gevent and to Python frames around each call, not to
decoding, so both parts here take the fewest steps that still check every reply whole.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from typing import Any, TypeVar

from thrift.protocol.TBinaryProtocol import TBinaryProtocol, TBinaryProtocolAccelerated
from thrift.protocol.TCompactProtocol import TCompactProtocol, TCompactProtocolAccelerated
from thrift.protocol.TProtocol import TProtocolException
from thrift.Thrift import TApplicationException, TMessageType
from thrift.transport.TTransport import TMemoryBuffer, TTransportException

from protobench.v1.inference_thrift import InferenceService as ThriftService

T = TypeVar("T")
# A length out of bounds, found by the decoder's checks rather than by the socket.
BAD_LENGTH = {TTransportException.NEGATIVE_SIZE, TTransportException.SIZE_LIMIT}


class NotAReply(Exception):
    """The server's bytes are no reply to the call (a server of another protocol on the port,
    or a broken one): nothing more can be read on that connection."""


def read_reply(read: Callable[..., T], *args: Any) -> T:
    """``read(*args)``, its decoder's failures as NotAReply. Thrift's decoders raise
    TProtocolException, TTransportException for a length out of bounds, or (the C decoder)
    TypeError, ValueError or OverflowError, depending on where the bytes go wrong; EOFError
    (too few bytes yet) and the reply's own errors pass."""
    try:
        return read(*args)
    except TTransportException as exc:
        if exc.type not in BAD_LENGTH:
            raise
        raise NotAReply(str(exc)) from exc
    except (TProtocolException, TypeError, ValueError, OverflowError) as exc:
        raise NotAReply(str(exc) or type(exc).__name__) from exc


class ReplyReader:
    """One method's REPLY, read from the bytes received so far.

    A successful or failed call's reply starts with a message header that never changes (the
    REPLY type, the method's name, seqid 0): when the bytes start with it, the result struct
    after it is decoded by Thrift's C decoder and its success returned or its error raised.
    Anything else (an EXCEPTION message, or too few bytes to tell) is read by the generated
    client, which raises it. Incomplete bytes raise EOFError either way, bytes that are no reply
    NotAReply."""

    def __init__(self, method: str, compact: bool) -> None:
        header = TMemoryBuffer()
        (TCompactProtocol if compact else TBinaryProtocol)(header).writeMessageBegin(
            method, TMessageType.REPLY, 0
        )
        self._header: bytes = header.getvalue()
        self._protocol_class = (
            TCompactProtocolAccelerated if compact else TBinaryProtocolAccelerated
        )
        self._protocol = self._protocol_class(TMemoryBuffer())  # given each reply's bytes
        self._result: Any = getattr(ThriftService, f"{method}_result")
        self._method = method

    def read(self, received: bytes) -> Any:
        if not received.startswith(self._header):
            # A protocol of its own: the compact one keeps state, left dirty by a failed read.
            client = ThriftService.Client(self._protocol_class(TMemoryBuffer(received)))
            return read_reply(getattr(client, f"recv_{self._method}"))
        protocol = self._protocol
        protocol.trans = TMemoryBuffer(received, len(self._header))
        result = self._result()
        try:
            read_reply(result.read, protocol)
        except Exception:
            self._protocol = self._protocol_class(TMemoryBuffer())  # clean for the next reply
            raise
        if result.success is not None:
            return result.success
        if result.error is not None:
            raise result.error
        raise TApplicationException(
            TApplicationException.MISSING_RESULT, f"{self._method} failed: unknown result"
        )


Exchange = Callable[[socket.socket, Callable[[], None]], Any]
"""``exchange(handle, readable)``: sends, calls ``readable()`` to wait for the first bytes of
the reply, then reads it."""


class ReplyWait:
    """A prepared call's deadline and its wait for the reply.

    A plain socket keeps its own timeout and reads as soon as it can. Under gevent a socket
    with a timeout makes a new timer on every wait and learns there is nothing to read yet by a
    failed ``recv``; here one timer, made once, bounds the whole call, and the first wait is on
    a read watcher made once per connection, so the ``recv`` after it finds the reply there."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._hub: Any = None  # gevent's, once a gevent socket is seen
        self._current: Callable[[], Any] = lambda: None  # gevent's getcurrent, then
        self._timer: Any = None
        self._handle: socket.socket | None = None
        self._readable: Any = None  # the handle's read watcher
        self._wait: Callable[[], None] = _ready

    def run(self, handle: socket.socket, exchange: Exchange) -> Any:
        if not type(handle).__module__.startswith("gevent"):
            return exchange(handle, _ready)
        if self._hub is None:
            from gevent import get_hub, getcurrent

            self._hub, self._current = get_hub(), getcurrent
            self._timer = self._hub.loop.timer(self.seconds)
        if handle is not self._handle:
            if self._readable is not None:
                self._readable.close()
            self._handle, self._readable = handle, self._hub.loop.io(handle.fileno(), 1)
            self._wait = functools.partial(self._hub.wait, self._readable)
        self._timer.start(self._current().throw, TimeoutError)
        try:
            return exchange(handle, self._wait)
        finally:
            self._timer.stop()


def _ready() -> None:
    """A plain socket's ``recv`` waits (within the socket's timeout) by itself."""
