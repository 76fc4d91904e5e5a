"""Running an ASGI app (REST, GraphQL, JSON-RPC) on uvicorn with uvloop and httptools (with
the header, time and connection limits of ``servers.http_limits``), and the ASGI middleware
the three HTTP adapters share: the API key and the request body limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from types import FrameType
from typing import Any

import uvicorn
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from protobench.core.auth import bearer_matches, caller
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from servers.http_limits import HttpLimits, limited_protocol
from servers.listen import Listen, announce, bind_socket

GRACEFUL_SHUTDOWN_S = 10

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# What to answer a body over the limit: status, content type and body, given the size seen.
Refusal = Callable[[int], tuple[int, str, bytes]]
# Status of the answer to a client that hung up before its body arrived: never sent (the
# connection is closed), it only keeps the hang-up out of the internal-error handler and its log.
CLIENT_CLOSED = 499


async def client_gone(_: Request, __: Exception) -> Response:
    """Starlette exception handler for ``ClientDisconnect``: the client closed the
    connection while its body was read, so there is no one to answer and nothing to log."""
    return Response(status_code=CLIENT_CLOSED)


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((value for key, value in scope["headers"] if key == name), None)


def with_api_key(app: ASGIApp, settings: Settings) -> ASGIApp:
    """Mark each HTTP request as authenticated or not by its ``Authorization`` header; the core
    decides what an unauthenticated caller may do (health only)."""
    api_key = settings.api_key
    if api_key is None:
        return app

    async def authenticate(scope: Scope, receive: Receive, send: Send) -> None:
        presented = _header(scope, b"authorization") if scope["type"] == "http" else None
        with caller(bearer_matches(presented, api_key)):
            await app(scope, receive, send)

    return authenticate


def with_body_limit(app: ASGIApp, max_bytes: int, refuse: Refusal) -> ASGIApp:
    """A body over ``max_bytes`` (declared by Content-Length, or counted as it streams in) is
    answered by ``refuse`` and never reaches the app. A body declared within the limit passes
    straight through, at no cost (the server delivers exactly Content-Length bytes); a body
    of unknown length (chunked) is read and counted before the app sees it."""

    async def limited(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > max_bytes:
                return await _answer(send, *refuse(int(declared)))
            # HTTP/1.1 framing: the server delivers exactly Content-Length bytes, no more.
            try:
                return await app(scope, receive, send)
            except ClientDisconnect:  # hung up mid-body, in an app with no handler for it
                return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                return await _answer(send, *refuse(size))
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: wait for the disconnect
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await app(scope, replay, send)
        return None

    return limited


async def _answer(send: Send, status: int, content_type: str, body: bytes) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    # The rest of the body is not read: close the connection rather than drain it.
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serve_asgi(app: Any, protocol: str, service: InferenceService, listen: Listen) -> None:
    """Bind, start loading the models, announce the port, then serve until SIGINT/SIGTERM.

    uvicorn handles both signals itself: it stops accepting, lets in-flight requests finish
    (up to ``GRACEFUL_SHUTDOWN_S``), sends the app the lifespan's shutdown, then returns, and
    the process exits 0. With ``tls_cert_file`` set it serves HTTPS.
    """
    sock = bind_socket(listen)
    server = asgi_server(app, service.settings)
    service.load_in_background()
    announce(listen, protocol, sock.getsockname()[1])
    server.run(sockets=[sock])


def asgi_server(app: Any, settings: Settings) -> DrainingServer:
    """uvicorn as every HTTP adapter runs on it. The ASGI lifespan is uvicorn's "auto": an app
    that takes it hears of the stop (the SOAP app ends its WSGI threads), one that refuses it
    (strawberry's GraphQL view) is served without it."""
    config = uvicorn.Config(
        with_api_key(app, settings),
        loop="uvloop",
        http=limited_protocol(HttpLimits.from_settings(settings)),
        lifespan="auto",
        access_log=False,
        server_header=False,  # no "server: uvicorn" for a scanner to read
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        timeout_keep_alive=settings.http_keep_alive_s,
        ssl_certfile=settings.tls_cert_file,
        ssl_keyfile=settings.tls_key_file,
    )
    return DrainingServer(config)


class DrainingServer(uvicorn.Server):
    """uvicorn raises the stopping signal again once it has drained, so the process dies of it
    (143 after SIGTERM, 130 after SIGINT). A requested stop that drained is not a failure:
    every protobench server exits 0 after either signal, as the gRPC server does."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()  # nothing to raise again after the drain
