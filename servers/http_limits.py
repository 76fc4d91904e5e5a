"""Limits on each HTTP/1.1 connection that uvicorn leaves open: header size, read time and the
number of connections.

uvicorn's httptools protocol buffers a request's headers with no size limit (a 64 MiB header
was held in full on each connection), waits for headers and bodies with no time limit (200
slowloris connections stayed open), and its ``limit_concurrency`` answers 503 only once a
request's headers are complete, so slow connections still hold every file descriptor. The
h11 protocol has a header limit (``h11_max_incomplete_event_size``) but answers 400, not 431,
and parses in Python. So the server keeps httptools and this subclass adds, per connection:

- **header size**: bytes received while a request's headers are incomplete are counted
  before httptools buffers more, and the headers are measured exactly once parsed; over
  ``max_header_bytes`` the answer is 431 and the connection closes (at most one read, 256 KiB,
  is buffered beyond the limit);
- **read timeouts**: a request's headers must arrive within ``header_timeout_s`` of its
  first byte (or of the connection, for a silent one), and its body within
  ``body_timeout_s`` of its headers; otherwise 408 and the connection closes. A deadline
  that fires late (the loop was stalled, so the bytes may have come and not been read) is
  put off briefly rather than blamed on the client. Idle keep-alive connections close
  after ``http_keep_alive_s`` (5 s; uvicorn's ``timeout_keep_alive``);
- **connection cap**: a connection beyond ``max_connections`` (kept below the process's
  file-descriptor limit) is answered 503 with ``Retry-After`` at once and closed, so one
  client's slow connections cannot make every other request fail with no answer.

One more repair, not a limit: a client that pipelines requests and hangs up left the running
request's cycle unmarked (uvicorn marks only the last parsed one as disconnected), so its
answer was written to a closed transport and logged as "Exception in ASGI application ...
the handler is closed". Every open cycle is marked here.

These refusals are written by the server before any application sees a request, so they are
plain text, the same on REST, GraphQL and JSON-RPC; the clients read the status (431 and 408
are INVALID_INPUT, 503 NOT_READY). They are not logged: an attacker must not fill the log.
"""

from __future__ import annotations

import asyncio
import resource
from dataclasses import dataclass

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from protobench.core.settings import Settings

FD_RESERVE = 64  # descriptors kept for the model files, the log, the database, the listener
LATE_S = 0.05  # a deadline timer this late means the event loop was stalled, not the client
GRACE_S = 0.5  # how long a stalled loop's deadline is put off, to read what came meanwhile


@dataclass(frozen=True)
class HttpLimits:
    max_header_bytes: int
    header_timeout_s: float
    body_timeout_s: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            max_header_bytes=settings.http_max_header_bytes,
            header_timeout_s=settings.http_header_timeout_s,
            body_timeout_s=settings.http_body_timeout_s,
            max_connections=connection_cap(settings.http_max_connections),
        )


def connection_cap(configured: int) -> int:
    """``configured``, or fewer when the file-descriptor limit would run out first."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, soft - FD_RESERVE))


def refusal(status: int, reason: str, text: str, extra_headers: bytes = b"") -> bytes:
    body = text.encode()
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
        b"connection: close\r\n%s\r\n%s" % (status, reason.encode(), len(body), extra_headers, body)
    )


class HeadersTooLarge(Exception):
    """Raised in a parser callback to stop httptools; the 431 is already written."""


def limited_protocol(limits: HttpLimits) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with ``limits`` (pass it as ``uvicorn.Config(http=...)``)."""

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        refused = False
        in_headers = True
        header_bytes = 0
        deadline: asyncio.TimerHandle | None = None  # the connection's one timer
        timer_at = 0.0  # when that timer fires
        deadline_at = 0.0  # when the phase awaited now must end; 0.0: nothing awaited
        open_cycles: tuple[RequestResponseCycle, ...] = ()  # running or queued, unanswered

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                self._refuse(
                    refusal(
                        503,
                        "Service Unavailable",
                        f"this server has {limits.max_connections} connections open, its "
                        "limit; retry in a moment",
                        b"retry-after: 1\r\n",
                    )
                )
                return
            self._arm(limits.header_timeout_s)

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel()
            super().connection_lost(exc)
            for cycle in self.open_cycles:  # their answers have nowhere to go
                cycle.disconnected = True
                cycle.message_event.set()

        def data_received(self, data: bytes) -> None:
            if self.refused:
                return
            if self.in_headers:
                self.header_bytes += len(data)
            super().data_received(data)
            if self.in_headers and self.header_bytes > limits.max_header_bytes:
                self._headers_too_large(self.header_bytes)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.in_headers = True
            self._arm(limits.header_timeout_s)

        def on_headers_complete(self) -> None:
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            if size > limits.max_header_bytes:
                self._headers_too_large(size)
                raise HeadersTooLarge
            self.in_headers = False
            self.header_bytes = 0
            self._arm(limits.body_timeout_s)
            super().on_headers_complete()
            if self.cycle is not None:
                self.open_cycles = (*self.open_cycles, self.cycle)

        def on_response_complete(self) -> None:
            self.open_cycles = tuple(c for c in self.open_cycles if not c.response_complete)
            super().on_response_complete()

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def send_400_response(self, msg: str) -> None:
            if not self.refused:  # a refusal here has answered already
                super().send_400_response(msg)

        def _headers_too_large(self, size: int) -> None:
            text = f"the request's headers are {size} bytes or more; the limit is "
            self._refuse(
                refusal(431, "Request Header Fields Too Large", text + str(limits.max_header_bytes))
            )

        def _expired(self) -> None:
            self.deadline = None
            if not self.deadline_at:  # the phase it was set for ended in time
                return
            now = self.loop.time()
            if now < self.deadline_at:  # a later phase moved the deadline on: wait for it
                self._set_timer()
                return
            if now - self.deadline_at > LATE_S:
                # The loop was stalled (a busy machine): the client's bytes may be waiting
                # unread, and uvloop runs timers before reading. Judge again once it has read.
                self._arm(GRACE_S)
                return
            if self.cycle is not None and self.cycle.response_started:
                self.transport.close()  # answered already; the rest of the body is not wanted
                return
            waited = "headers" if self.in_headers else "body"
            self._refuse(refusal(408, "Request Timeout", f"the request's {waited} came too slowly"))

        def _refuse(self, response: bytes) -> None:
            self.refused = True
            self._cancel()
            if not self.transport.is_closing():
                self.transport.write(response)
                self.transport.close()

        # Every request moves the deadline twice and ends it once. Setting and cancelling an
        # event-loop timer each time cost about a tenth of a REST predict's CPU, so the
        # deadline is a number and one timer per connection is set only when none is
        # pending early enough; when it fires it judges the deadline in force then.
        def _arm(self, seconds: float) -> None:
            self.deadline_at = self.loop.time() + seconds
            if self.deadline is None or self.deadline_at < self.timer_at:
                self._set_timer()

        def _disarm(self) -> None:
            self.deadline_at = 0.0

        def _set_timer(self) -> None:
            self._cancel()
            self.timer_at = self.deadline_at
            self.deadline = self.loop.call_at(self.timer_at, self._expired)

        def _cancel(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None

    return LimitedHttpToolsProtocol
