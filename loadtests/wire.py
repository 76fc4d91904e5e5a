"""Bytes on the wire, counted by a relay that sits between a client and the server.

The relay forwards TCP bytes unchanged and classifies them as it goes, by the transport the
protocol's spec declares:
- HTTP/1.1 (REST, GraphQL, JSON-RPC): the header block up to the blank line is *headers*, the
  Content-Length that follows is *body*.
- HTTP/2 (gRPC): every 9-byte frame header, the connection preface and non-DATA/HEADERS frames
  are *framing*; HEADERS/CONTINUATION payloads (HPACK-compressed) are *headers*; DATA payloads
  are *body* except gRPC's 5-byte length prefix per message, which is *framing*.
- raw TCP and broker protocols: their framing is their own, so every byte counts as *body*
  (for a broker, the relay sits between the client and the broker: the client's side only).
A calibration pass sends K identical calls through it after one warm-up call (so connection
set-up is not charged to requests) and divides.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from clients.base import InferenceClient
from protobench.protocol_spec import Transport

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FRAME_HEADER = 9
DATA, HEADERS, CONTINUATION = 0, 1, 9
GRPC_PREFIX = 5
SETTLE_S = 0.05


@dataclass
class ByteCounts:
    headers: int = 0
    framing: int = 0
    body: int = 0

    @property
    def total(self) -> int:
        return self.headers + self.framing + self.body

    def minus(self, other: ByteCounts) -> ByteCounts:
        return ByteCounts(
            self.headers - other.headers, self.framing - other.framing, self.body - other.body
        )

    def per(self, n: int) -> dict[str, float]:
        return {
            "headers": self.headers / n,
            "framing": self.framing / n,
            "body": self.body / n,
            "total": self.total / n,
        }


@dataclass
class _Http1Parser:
    counts: ByteCounts
    buffer: bytes = b""
    body_left: int = 0

    def feed(self, data: bytes) -> None:
        while data:
            if self.body_left:
                take = min(self.body_left, len(data))
                self.counts.body += take
                self.body_left -= take
                data = data[take:]
                continue
            self.buffer += data
            data = b""
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data = self.buffer[: end + 4], self.buffer[end + 4 :]
            self.buffer = b""
            self.counts.headers += len(head)
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    self.body_left = int(value.strip() or 0)


@dataclass
class _Http2Parser:
    counts: ByteCounts
    buffer: bytes = b""
    preface_checked: bool = False
    grpc_left: dict[int, int] = field(default_factory=dict)  # stream -> prefix bytes still due

    def feed(self, data: bytes) -> None:
        self.buffer += data
        if not self.preface_checked:
            if len(self.buffer) < len(H2_PREFACE) and H2_PREFACE.startswith(self.buffer):
                return
            if self.buffer.startswith(H2_PREFACE):
                self.counts.framing += len(H2_PREFACE)
                self.buffer = self.buffer[len(H2_PREFACE) :]
            self.preface_checked = True
        while len(self.buffer) >= FRAME_HEADER:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < FRAME_HEADER + length:
                return
            kind = self.buffer[3]
            stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
            payload = self.buffer[FRAME_HEADER : FRAME_HEADER + length]
            self.buffer = self.buffer[FRAME_HEADER + length :]
            self.counts.framing += FRAME_HEADER
            if kind in (HEADERS, CONTINUATION):
                self.counts.headers += length
            elif kind == DATA:
                self._data(stream, payload)
            else:
                self.counts.framing += length

    def _data(self, stream: int, payload: bytes) -> None:
        """Walk gRPC length-prefixed messages, which may span DATA frames."""
        while payload:
            due = self.grpc_left.get(stream, 0)
            if due > 0:  # inside a message body
                take = min(due, len(payload))
                self.counts.body += take
                self.grpc_left[stream] = due - take
                payload = payload[take:]
                continue
            if len(payload) < GRPC_PREFIX:  # a prefix split across frames: rare, count as framing
                self.counts.framing += len(payload)
                return
            self.counts.framing += GRPC_PREFIX
            self.grpc_left[stream] = int.from_bytes(payload[1:5], "big")
            payload = payload[GRPC_PREFIX:]


@dataclass
class _StreamParser:
    """A protocol with its own framing on raw TCP: all of it is counted as body."""

    counts: ByteCounts

    def feed(self, data: bytes) -> None:
        self.counts.body += len(data)


class _Direction:
    """Counts one direction of every connection with the right parser for the transport."""

    def __init__(self, transport: Transport) -> None:
        self.counts = ByteCounts()
        self.transport = transport
        self.lock = threading.Lock()

    def parser(self) -> _Http1Parser | _Http2Parser | _StreamParser:
        if self.transport is Transport.HTTP1:
            return _Http1Parser(self.counts)
        if self.transport is Transport.H2C:
            return _Http2Parser(self.counts)
        return _StreamParser(self.counts)

    def snapshot(self) -> ByteCounts:
        with self.lock:
            return ByteCounts(self.counts.headers, self.counts.framing, self.counts.body)


class CountingRelay:
    """A TCP relay on 127.0.0.1 in a background thread; use as a context manager."""

    def __init__(self, upstream_host: str, upstream_port: int, *, transport: Transport) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.up = _Direction(transport)  # client -> server
        self.down = _Direction(transport)  # server -> client
        self.port = 0
        # Called with (client_to_server, bytes) for every chunk forwarded, in order; the
        # playground uses it to show an exchange as it crossed the wire.
        self.tap: Callable[[bool, bytes], None] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: _Direction
    ) -> None:
        parser = direction.parser()
        try:
            while data := await reader.read(65536):
                with direction.lock:
                    parser.feed(data)
                    if self.tap is not None:
                        self.tap(direction is self.up, data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
            await asyncio.gather(
                self._pipe(client_r, server_w, self.up), self._pipe(server_r, client_w, self.down)
            )
        except (OSError, asyncio.CancelledError):
            client_w.close()

    def __enter__(self) -> CountingRelay:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        )
        self._server = future.result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *_: object) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            current = asyncio.current_task()
            pending = [t for t in asyncio.all_tasks() if t is not current]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @contextlib.contextmanager
    def measure(self) -> Iterator[Callable[[], tuple[ByteCounts, ByteCounts]]]:
        """Yields a function giving the bytes (up, down) counted since entering."""
        up0, down0 = self.up.snapshot(), self.down.snapshot()
        yield lambda: (self.up.snapshot().minus(up0), self.down.snapshot().minus(down0))


@dataclass(frozen=True)
class WireBytes:
    """Average bytes per request and per response, split into headers, framing and body."""

    request: dict[str, float]
    response: dict[str, float]
    calls: int


def calibrate(
    host: str,
    port: int,
    *,
    transport: Transport,
    open_client: Callable[[str], InferenceClient],
    send: Callable[[InferenceClient], object],
    calls: int = 50,
) -> WireBytes:
    """Send ``calls`` identical requests on one client through a counting relay.

    One call goes first, unmeasured, so connection set-up (TCP, HTTP/2 SETTINGS, the first
    uncompressed HPACK headers) is not charged to the steady state a load test sees.
    """
    with CountingRelay(host, port, transport=transport) as relay:
        client = open_client(f"127.0.0.1:{relay.port}")
        try:
            send(client)
            time.sleep(SETTLE_S)
            with relay.measure() as counted:
                for _ in range(calls):
                    send(client)
                time.sleep(SETTLE_S)  # trailing WINDOW_UPDATE / PING frames
                up, down = counted()
        finally:
            client.close()
    return WireBytes(up.per(calls), down.per(calls), calls)
