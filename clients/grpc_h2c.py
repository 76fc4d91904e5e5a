"""gRPC unary calls over HTTP/2 cleartext (h2c) on a plain socket: the Locust users' transport.

grpcio's client costs about as much CPU per call as the server it measures (its C core and its
polling under gevent, docs/loadtests.md); a load generator must cost far less. This module
speaks just what a closed-model user needs, on a socket gevent can patch:

- one connection per address (several addresses: calls go round robin, as grpcio's
  ``round_robin`` policy would), one stream at a time, stream ids 1, 3, 5, ...; a new connection
  when the id space is spent or the server said GOAWAY;
- each method's HEADERS block HPACK-encoded once and sent again as it is: every field goes out
  indexed from the static table or as a never-indexed literal, so the block leaves the server's
  dynamic table alone and stays valid on any connection;
- DATA = the 5-byte gRPC prefix + request bytes serialised by the caller, once;
- answers read frame by frame until END_STREAM, the status from the trailers (or a trailers-only
  answer); SETTINGS, PING, WINDOW_UPDATE, GOAWAY and RST_STREAM handled; WINDOW_UPDATE sent as
  the answers use up the receive windows.

A failed call raises ``GrpcStatus`` with gRPC's numeric code; ``clients.grpc_client`` maps it to
a ClientError through the gRPC row of the error table, as it does grpcio's errors. UNAVAILABLE
is retried under the same policy as grpcio's channel; a stream the server refused (GOAWAY below
its id, REFUSED_STREAM) never ran and is sent again on a new connection without counting.
"""

from __future__ import annotations

import random
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote

from hpack import Decoder, Encoder
from hpack.exceptions import HPACKError
from hpack.struct import HeaderTuple

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE = (
    0,
    1,
    3,
    4,
    5,
    6,
    7,
    8,
)
CONTINUATION = 9
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY = 0x4, 0x8, 0x20
SETTINGS_ENABLE_PUSH, SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_FRAME_SIZE = 0x2, 0x4, 0x5
REFUSED_STREAM = 0x7
FRAME_HEAD = struct.Struct(">HBBBI")  # 24-bit length as 16 + 8 bits, type, flags, stream id
DEFAULT_WINDOW = 65_535
DEFAULT_MAX_FRAME = 16_384
STREAM_MASK = 2**31 - 1  # the reserved bit off
LAST_STREAM_ID = 2**31 - 1  # the last id a client may open; then a new connection
RECEIVE_WINDOW = 2**31 - 1  # ours, per stream and for the connection; topped up at half
KNOWN_BLOCKS = 64  # header blocks remembered per connection, decoded
MAX_REFUSALS = 5  # streams refused in one call before it gives up (each a new connection)

# gRPC's numeric status codes used here (the names match grpc.StatusCode's members).
OK, CANCELLED, UNKNOWN, DEADLINE_EXCEEDED, PERMISSION_DENIED = 0, 1, 2, 4, 7
RESOURCE_EXHAUSTED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, UNAUTHENTICATED = 8, 12, 13, 14, 16
# An answer without grpc-status: its HTTP status as gRPC reads it (gRPC's HTTP mapping doc).
HTTP_TO_GRPC = {400: INTERNAL, 401: UNAUTHENTICATED, 403: PERMISSION_DENIED, 404: UNIMPLEMENTED,
                429: UNAVAILABLE, 502: UNAVAILABLE, 503: UNAVAILABLE, 504: UNAVAILABLE}  # fmt: skip
# A stream reset by the server, as gRPC reads the HTTP/2 error code.
RESET_TO_GRPC = {0x8: CANCELLED, 0xB: RESOURCE_EXHAUSTED, 0xC: PERMISSION_DENIED}


class GrpcStatus(Exception):  # a call's outcome, named as gRPC names it
    """A call that did not end in OK: gRPC's numeric code, its message and the trailers.
    ``answered`` is False when the server never gave the status (transport failures)."""

    def __init__(self, code: int, message: str, trailers: dict[str, str] | None = None,
                 *, answered: bool = True) -> None:  # fmt: skip
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.trailers = trailers or {}
        self.answered = answered


class _Refused(Exception):
    """The server did not run the stream: send it again on a new connection."""


@dataclass(frozen=True)
class RetryPolicy:
    """grpcio's ``retryPolicy`` for UNAVAILABLE, in numbers both transports read."""

    max_attempts: int = 3
    initial_backoff_s: float = 0.05
    max_backoff_s: float = 0.5
    multiplier: float = 2.0


class Answer(NamedTuple):
    headers: dict[str, str]  # the response headers and trailers, merged
    body: bytes  # the DATA payloads, still length-prefixed


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    length = len(payload)
    return FRAME_HEAD.pack(length >> 8, length & 0xFF, kind, flags, stream) + payload


def _addresses(target: str) -> list[tuple[str, int]]:
    """``host:port``, ``[v6]:port``, ``ipv4:a:p,b:q`` or ``ipv6:[a]:p,...`` -> addresses."""
    for scheme in ("ipv4:", "ipv6:"):
        target = target.removeprefix(scheme)
    addresses = []
    for item in target.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"an h2c target is host:port or ipv4:/ipv6: addresses, not {target!r}")
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def grpc_timeout(seconds: float) -> str:
    """The ``grpc-timeout`` header: at most 8 digits and a unit."""
    millis = max(1, round(seconds * 1000))
    return f"{millis}m" if millis < 10**8 else f"{min(round(seconds), 10**8 - 1)}S"


class H2cConnection:
    """One HTTP/2 connection to one address, one stream at a time."""

    def __init__(self, address: tuple[str, int], timeout: float) -> None:
        self.address = address
        self.timeout = timeout
        self._sock: socket.socket | None = None

    def _open(self) -> socket.socket:
        try:
            sock = socket.create_connection(self.address, timeout=self.timeout)
        except TimeoutError:
            raise GrpcStatus(DEADLINE_EXCEEDED, "connect timed out", answered=False) from None
        except OSError as exc:
            raise GrpcStatus(UNAVAILABLE, str(exc), answered=False) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        settings = struct.pack(">HIHI", SETTINGS_ENABLE_PUSH, 0,
                               SETTINGS_INITIAL_WINDOW_SIZE, RECEIVE_WINDOW)  # fmt: skip
        hello = PREFACE + frame(SETTINGS, 0, 0, settings)
        if RECEIVE_WINDOW > DEFAULT_WINDOW:  # the connection's window starts at 65,535
            hello += frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", RECEIVE_WINDOW - DEFAULT_WINDOW))
        self._buffer = bytearray()
        self._decoder = Decoder()
        self._known_blocks: dict[bytes, list[HeaderTuple]] = {}
        self._next_stream = 1
        self._going_away = False
        self._send_window = DEFAULT_WINDOW  # the connection's, granted by the server
        self._initial_window = DEFAULT_WINDOW  # each new stream's
        self._max_frame = DEFAULT_MAX_FRAME
        self._unacknowledged = 0  # bytes received on the connection since our last update
        self._sock = sock
        self._send(hello, time.perf_counter() + self.timeout)
        return sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # -- one call ------------------------------------------------------------------------------

    def call(self, block: bytes, message: bytes, deadline: float) -> Answer:
        """Send one request (its HEADERS block and its length-prefixed message) and read its
        answer; raises ``_Refused`` when the server did not run it."""
        try:
            if self._sock is None or self._going_away or self._next_stream > LAST_STREAM_ID:
                self.close()
                self._open()
            stream = self._next_stream
            self._next_stream += 2
            self._stream = stream
            self._stream_window = self._initial_window
            self._stream_unacknowledged = 0
            self._headers: dict[str, str] = {}
            self._body: list[bytes] = []
            self._ended = False
            self._send_request(stream, block, message, deadline)
            while not self._ended:
                self._read_frame(deadline)
        except _Refused:
            self.close()
            raise
        except TimeoutError:
            self.close()  # the stream may still answer; a new connection is simpler than fencing
            raise GrpcStatus(DEADLINE_EXCEEDED, "deadline passed", answered=False) from None
        except (OSError, ConnectionError) as exc:
            self.close()
            raise GrpcStatus(UNAVAILABLE, f"connection lost: {exc}", answered=False) from None
        except (HPACKError, struct.error, ValueError) as exc:
            self.close()
            raise GrpcStatus(INTERNAL, f"malformed HTTP/2 answer: {exc}") from None
        if self._going_away:
            self.close()
        return Answer(self._headers, b"".join(self._body))

    def _send_request(self, stream: int, block: bytes, message: bytes, deadline: float) -> None:
        head = self._header_frames(stream, block)
        if len(message) <= min(self._max_frame, self._send_window, self._stream_window):
            self._send_window -= len(message)
            self._stream_window -= len(message)
            self._send(head + frame(DATA, END_STREAM, stream, message), deadline)
            return
        self._send(head, deadline)
        view = memoryview(message)
        while view and not self._ended:
            room = min(self._max_frame, self._send_window, self._stream_window, len(view))
            if room <= 0:
                self._read_frame(deadline)  # wait for WINDOW_UPDATE (or an early answer)
                continue
            chunk, view = bytes(view[:room]), view[room:]
            self._send_window -= room
            self._stream_window -= room
            self._send(frame(DATA, 0 if view else END_STREAM, stream, chunk), deadline)

    def _header_frames(self, stream: int, block: bytes) -> bytes:
        if len(block) <= self._max_frame:
            return frame(HEADERS, END_HEADERS, stream, block)
        pieces = [block[i : i + self._max_frame] for i in range(0, len(block), self._max_frame)]
        frames = [frame(HEADERS, 0, stream, pieces[0])]
        frames += [frame(CONTINUATION, 0, stream, piece) for piece in pieces[1:-1]]
        frames.append(frame(CONTINUATION, END_HEADERS, stream, pieces[-1]))
        return b"".join(frames)

    # -- the socket ----------------------------------------------------------------------------

    def _send(self, data: bytes, deadline: float) -> None:
        sock = self._sock
        assert sock is not None
        sock.settimeout(max(deadline - time.perf_counter(), 0.001))
        sent = sock.send(data)  # all of it, normally: sendall's bookkeeping only when not
        if sent < len(data):
            sock.sendall(data[sent:])

    def _take(self, size: int, deadline: float) -> bytes:
        buffer = self._buffer
        while len(buffer) < size:
            sock = self._sock
            assert sock is not None
            sock.settimeout(max(deadline - time.perf_counter(), 0.001))
            chunk = sock.recv(65_536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            buffer += chunk
        data = bytes(buffer[:size])
        del buffer[:size]
        return data

    # -- frames --------------------------------------------------------------------------------

    def _read_frame(self, deadline: float) -> None:
        high, low, kind, flags, stream = FRAME_HEAD.unpack(self._take(9, deadline))
        payload = self._take(high << 8 | low, deadline)
        stream &= STREAM_MASK
        if kind == DATA:
            self._on_data(flags, stream, payload, deadline)
        elif kind == HEADERS:
            self._on_headers(flags, stream, payload, deadline)
        elif kind == SETTINGS:
            if not flags & ACK:
                self._on_settings(payload, deadline)
        elif kind == WINDOW_UPDATE:
            increment = struct.unpack(">I", payload)[0] & STREAM_MASK
            if stream == 0:
                self._send_window += increment
            elif stream == self._stream:
                self._stream_window += increment
        elif kind == PING:
            if not flags & ACK:
                self._send(frame(PING, ACK, 0, payload), deadline)
        elif kind == GOAWAY:
            self._going_away = True
            last_stream = struct.unpack(">I", payload[:4])[0] & STREAM_MASK
            if self._stream > last_stream:
                raise _Refused
        elif kind == RST_STREAM and stream == self._stream:
            self._on_reset(struct.unpack(">I", payload)[0])
        elif kind in (PUSH_PROMISE, CONTINUATION):
            raise ValueError(f"unexpected frame type {kind}")
        # PRIORITY, resets of streams we gave up on, unknown types: nothing to do

    def _on_data(self, flags: int, stream: int, payload: bytes, deadline: float) -> None:
        self._unacknowledged += len(payload)  # flow control counts the padding too
        updates = b""
        if self._unacknowledged >= RECEIVE_WINDOW // 2:
            updates = frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", self._unacknowledged))
            self._unacknowledged = 0
        if stream == self._stream:
            self._body.append(_unpadded(flags, payload))
            self._ended = bool(flags & END_STREAM)
            self._stream_unacknowledged += len(payload)
            if not self._ended and self._stream_unacknowledged >= RECEIVE_WINDOW // 2:
                increment = struct.pack(">I", self._stream_unacknowledged)
                updates += frame(WINDOW_UPDATE, 0, stream, increment)
                self._stream_unacknowledged = 0
        if updates:
            self._send(updates, deadline)

    def _on_headers(self, flags: int, stream: int, payload: bytes, deadline: float) -> None:
        block = _unpadded(flags, payload)
        if flags & PRIORITY:
            block = block[5:]
        while not flags & END_HEADERS:
            high, low, kind, flags, _ = FRAME_HEAD.unpack(self._take(9, deadline))
            if kind != CONTINUATION:
                raise ValueError("a header block was cut by another frame")
            block += self._take(high << 8 | low, deadline)
        fields = self._decoded(block)
        if stream == self._stream:
            for name, value in fields:
                self._headers[name.decode()] = value.decode(errors="replace")
            self._ended = bool(flags & END_STREAM) or self._ended

    def _decoded(self, block: bytes) -> list[HeaderTuple]:
        """A header block's fields. Every block is decoded, whatever its stream (it may change
        the dynamic table), except one decoded before that left the table as it found it:
        while the table stays so, the same bytes mean the same fields (the server's answer and
        trailers, call after call)."""
        known = self._known_blocks.get(block)
        if known is not None:
            return known
        table = self._decoder.header_table
        before = (table.maxsize, tuple(table.dynamic_entries))
        fields = list(self._decoder.decode(block, raw=True))
        if (table.maxsize, tuple(table.dynamic_entries)) != before:
            self._known_blocks.clear()
        elif len(self._known_blocks) < KNOWN_BLOCKS:
            self._known_blocks[block] = fields
        return fields

    def _on_settings(self, payload: bytes, deadline: float) -> None:
        for offset in range(0, len(payload) - 5, 6):
            key, value = struct.unpack_from(">HI", payload, offset)
            if key == SETTINGS_INITIAL_WINDOW_SIZE:
                self._stream_window += value - self._initial_window
                self._initial_window = value
            elif key == SETTINGS_MAX_FRAME_SIZE:
                self._max_frame = value
        self._send(frame(SETTINGS, ACK, 0), deadline)

    def _on_reset(self, error: int) -> None:
        if error == REFUSED_STREAM:
            raise _Refused
        code = RESET_TO_GRPC.get(error, INTERNAL)
        raise GrpcStatus(code, f"the server reset the stream (HTTP/2 error {error})")


def _unpadded(flags: int, payload: bytes) -> bytes:
    if flags & PADDED:
        return payload[1 : len(payload) - payload[0]]
    return payload


def reply_message(answer: Answer) -> bytes:
    """The answer's one message, or its status raised as ``GrpcStatus``."""
    headers = answer.headers
    status = headers.get("grpc-status")
    if status is None:
        text = headers.get(":status", "")
        http = int(text) if text.isdigit() else 0
        code = HTTP_TO_GRPC.get(http, UNKNOWN if http != 200 else INTERNAL)
        raise GrpcStatus(code, f"HTTP status {http} without a grpc-status", headers)
    if status != "0":
        code = int(status) if status.isdigit() else UNKNOWN
        raise GrpcStatus(code, unquote(headers.get("grpc-message", "")), headers)
    body = answer.body
    if len(body) < 5 or body[0] != 0 or int.from_bytes(body[1:5]) != len(body) - 5:
        raise GrpcStatus(INTERNAL, "the answer is not one uncompressed gRPC message", headers)
    return body[5:]


class H2cChannel:
    """Unary calls to one target: a connection per address, round robin over them."""

    def __init__(self, target: str, *, timeout: float, metadata: Sequence[tuple[str, str]] = (),
                 retry: RetryPolicy = RetryPolicy()) -> None:  # fmt: skip
        self.target = target
        self.timeout = timeout
        self.retry = retry
        self._metadata = tuple(metadata)
        self._connections = [H2cConnection(a, timeout) for a in _addresses(target)]
        self._turn = 0

    def unary(self, path: str) -> Callable[[bytes], bytes]:
        """A caller of ``path`` (``/package.Service/Method``): request bytes in, reply bytes
        out, ``GrpcStatus`` raised for anything but OK."""
        blocks = [self._header_block(path, c.address) for c in self._connections]
        return lambda request: self._call(blocks, request)

    def _header_block(self, path: str, address: tuple[str, int]) -> bytes:
        fields = [(":method", "POST"), (":scheme", "http"), (":path", path),
                  (":authority", _authority(*address)), ("content-type", "application/grpc"),
                  ("te", "trailers"), ("grpc-timeout", grpc_timeout(self.timeout)),
                  ("user-agent", "protobench-h2c"), *self._metadata]  # fmt: skip
        # Never indexed: the block changes no table and can be sent again as it is.
        return bytes(Encoder().encode([(name, value, True) for name, value in fields]))

    def _call(self, blocks: list[bytes], request: bytes) -> bytes:
        turn = self._turn
        self._turn = (turn + 1) % len(blocks)
        connection, block = self._connections[turn], blocks[turn]
        message = b"\0" + len(request).to_bytes(4) + request
        deadline = time.perf_counter() + self.timeout
        backoff, attempt, refusals = self.retry.initial_backoff_s, 1, 0
        while True:
            try:
                return reply_message(connection.call(block, message, deadline))
            except _Refused:
                refusals += 1
                if refusals > MAX_REFUSALS:
                    refused = "the server refused the stream"
                    raise GrpcStatus(UNAVAILABLE, refused, answered=False) from None
                continue
            except GrpcStatus as status:
                if status.code != UNAVAILABLE or attempt >= self.retry.max_attempts:
                    raise
                pause = random.uniform(0, backoff)
                if time.perf_counter() + pause >= deadline:
                    raise
                time.sleep(pause)
                attempt += 1
                backoff = min(backoff * self.retry.multiplier, self.retry.max_backoff_s)

    def close(self) -> None:
        for connection in self._connections:
            connection.close()
