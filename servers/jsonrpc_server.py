"""JSON-RPC 2.0 adapter: ``POST /jsonrpc`` on a plain ASGI app, jsonrpcserver dispatching.

HTTP status convention (the JSON-RPC over HTTP common practice):
  200  every JSON-RPC answer, errors included (parse error, invalid request, batch or body too
       large, core errors); the error is in the body, its code from the error table
  204  nothing to answer: a notification, or a batch of only notifications
  404  any path other than /jsonrpc; 405 any HTTP method other than POST (Allow: POST)
Methods, params and results: ``servers.jsonrpc_methods``; ``rpc.discover`` returns the OpenRPC
document. A plain ASGI callable rather than Starlette: one route needs no router, and it
measured faster (docs/jsonrpc.md).
"""

from __future__ import annotations

import logging

from protobench.core.errors import ErrorCode
from protobench.core.service import InferenceService
from servers.adapter_common import INTERNAL_MESSAGE, too_large
from servers.asgi_runner import ASGIApp, Receive, Refusal, Scope, Send, serve_asgi, with_body_limit
from servers.jsonrpc_dispatch import (
    Dispatcher,
    encode,
    error_object,
    error_response,
)
from servers.jsonrpc_methods import METHODS
from servers.jsonrpc_openrpc import openrpc_document
from servers.listen import Listen

log = logging.getLogger(__name__)

PATH = "/jsonrpc"


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


class JsonRpcApp:
    """The ASGI application: one endpoint, the dispatcher behind it. The body size limit is
    the shared ``with_body_limit`` middleware's (see ``create_app``)."""

    def __init__(self, service: InferenceService) -> None:
        settings = service.settings
        self.dispatcher = Dispatcher(
            service, METHODS, openrpc_document(METHODS), settings.jsonrpc_max_batch
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            return
        if scope["path"] != PATH:
            await _send(send, 404, b"not found: JSON-RPC is served at POST /jsonrpc", "text/plain")
            return
        if scope["method"] != "POST":
            await _send(send, 405, b"JSON-RPC takes POST", "text/plain", [(b"allow", b"POST")])
            return
        try:
            answer = await self.dispatcher.answer(await _read_body(receive))
        except ClientGone:
            return
        except Exception:
            log.exception("unexpected error answering a JSON-RPC body")
            answer = encode(error_response(error_object(ErrorCode.INTERNAL, INTERNAL_MESSAGE)))
        if answer is None:
            await _send(send, 204, b"")
        else:
            await _send(send, 200, answer, "application/json")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def refuse_too_large(max_bytes: int) -> Refusal:
    """A body over the limit is answered as JSON-RPC: HTTP 200, one -32003 error, id null."""

    def refuse(size: int) -> tuple[int, str, bytes]:
        error = too_large(size, max_bytes)
        wire = error_object(error.code, error.message, error.details)
        return 200, "application/json", encode(error_response(wire))

    return refuse


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: str | None = None,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = list(extra_headers or [])
    if status != 204:  # a 204 carries no Content-Length (RFC 9110 §8.6)
        headers.append((b"content-length", str(len(body)).encode()))
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(service: InferenceService) -> ASGIApp:
    max_bytes = service.settings.max_body_bytes
    return with_body_limit(JsonRpcApp(service), max_bytes, refuse_too_large(max_bytes))


def serve(service: InferenceService, listen: Listen) -> None:
    serve_asgi(create_app(service), "jsonrpc", service, listen)
