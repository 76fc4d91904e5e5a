"""servers/wsgi_host.py, called as uvicorn calls an ASGI app: the WSGI application sees the
whole body and the caller's context, its answer goes out in one piece, and an application
that raises StopIteration fails the call instead of leaving it unanswered forever. Served by
uvicorn in this process: the server's stop ends the pool's threads, without waiting for a call
that does not return."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest

from clients.soap_client import SoapClient
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from servers import soap_server
from servers.asgi_runner import ASGIApp, Message, asgi_server
from servers.listen import Listen, bind_socket
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


def _wsgi_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith("wsgi")}


def _until(condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` came true within GENEROUS_S."""
    deadline = time.monotonic() + GENEROUS_S
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


class _Served:
    """``app`` on uvicorn as ``protobench serve`` runs it (``asgi_server``), in a thread of this
    process, on a free loopback port."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        sock = bind_socket(Listen("127.0.0.1", 0))
        self.target = f"127.0.0.1:{sock.getsockname()[1]}"
        self.server = asgi_server(app, settings)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        assert _until(lambda: self.server.started), "the server did not start"

    def stop(self) -> bool:
        """Stop it as SIGTERM does; whether it stopped within GENEROUS_S."""
        self.server.should_exit = True
        self._thread.join(GENEROUS_S)
        return not self._thread.is_alive()


def test_the_soap_servers_stop_ends_its_wsgi_threads(service: InferenceService) -> None:
    before = _wsgi_threads()  # other tests' pools (never served by uvicorn) may be left
    served = _Served(soap_server.create_app(service), service.settings)
    try:
        with SoapClient(served.target, timeout=GENEROUS_S) as client:
            assert client.predict("iris", [[5.1, 3.5, 1.4, 0.2]]).predictions[0].label == "setosa"
        assert _wsgi_threads() - before, "the call ran in none of the pool's threads"
    finally:
        stopped = served.stop()
    assert stopped
    assert _until(lambda: not _wsgi_threads() - before), f"left: {_wsgi_threads() - before}"


def test_a_call_that_does_not_return_does_not_hold_up_the_stop(tmp_path: Path) -> None:
    entered, release = threading.Event(), threading.Event()

    def hanging(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        entered.set()
        release.wait(GENEROUS_S)
        start_response("200 OK", [])
        return [b"late"]

    before = _wsgi_threads()
    served = _Served(asgi_of(hanging, threads=2), Settings(models_dir=tmp_path))
    served.server.config.timeout_graceful_shutdown = 1  # give up on the hung call sooner
    host, _, port = served.target.partition(":")
    with socket.create_connection((host, int(port)), timeout=GENEROUS_S) as caller:
        caller.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        assert entered.wait(GENEROUS_S)
        try:
            stopped = served.stop()  # while the call still hangs
        finally:
            release.set()
    assert stopped
    assert _until(lambda: not _wsgi_threads() - before), f"left: {_wsgi_threads() - before}"
