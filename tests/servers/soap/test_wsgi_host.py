"""servers/wsgi_host.py, called as uvicorn calls an ASGI app: the WSGI application sees the
whole body and the caller's context, its answer goes out in one piece, and an application
that raises StopIteration fails the call instead of leaving it unanswered forever."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

import pytest

from servers.asgi_runner import Message
from servers.wsgi_host import asgi_of

pytestmark = pytest.mark.soap

WHO: ContextVar[str] = ContextVar("who", default="nobody")
GENEROUS_S = 30.0


def call(app: Callable[..., Iterable[bytes]], parts: list[bytes]) -> list[Message]:
    """One POST whose body arrives in ``parts``; the messages the app sent."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/soap",
        "query_string": b"wsdl",
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
        "headers": [(b"content-type", b"text/xml"), (b"x-a", b"1"), (b"x-a", b"2")],
    }
    incoming = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        WHO.set("the caller")
        await asyncio.wait_for(asgi_of(app, threads=2)(scope, receive, send), GENEROUS_S)

    asyncio.run(run())
    return sent


def test_the_app_sees_the_body_headers_and_context() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen = [
            environ["wsgi.input"].read(),
            environ["CONTENT_TYPE"].encode(),
            environ["HTTP_X_A"].encode(),
            environ["QUERY_STRING"].encode(),
            WHO.get().encode(),
        ]
        start_response("201 Created", [("X-Seen", "yes")])
        return [b"|".join(seen), b"!"]

    start, body = call(app, [b"<a>", b"</a>"])
    assert start["status"] == 201
    assert (b"x-seen", b"yes") in start["headers"]
    assert body["body"] == b"<a></a>|text/xml|1,2|wsdl|the caller!"
    assert (b"content-length", str(len(body["body"])).encode()) in start["headers"]


def test_a_stop_iteration_fails_the_call_rather_than_hanging_it() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise StopIteration

    with pytest.raises(RuntimeError, match="StopIteration"):
        call(app, [b""])
