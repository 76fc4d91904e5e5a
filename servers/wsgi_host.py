"""A WSGI application served as an ASGI one, with one thread hand-off per call.

The body is read on the event loop (``with_body_limit`` has already bounded it), the
application runs once in a worker thread with the caller's context (the API-key standing),
and its whole answer is sent from the loop. A general bridge (a2wsgi) instead crosses from
its thread back to the loop for each body read, the status line and every chunk, each a
wake-up of both sides: about 0.5 ms of CPU a call on a SOAP predict (docs/soap.md).
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from servers.asgi_runner import ASGIApp, Receive, Scope, Send

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
# Headers whose environ names carry no HTTP_ prefix (PEP 3333).
_PLAIN = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


def environ_of(scope: Scope, body: bytes) -> dict[str, Any]:
    """The WSGI environ of one HTTP request whose body has been read in full."""
    server_host, server_port = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": scope["path"].encode().decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "SERVER_NAME": server_host,
        "SERVER_PORT": str(server_port),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if client := scope.get("client"):
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1")
        key = _PLAIN.get(name) or "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def run_wsgi(app: WSGIApp, environ: dict[str, Any]) -> Answer:
    """Call ``app`` once and collect its status, headers and body (it is not streamed)."""
    started: list[tuple[str, list[tuple[str, str]]]] = []
    written: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        started.append((status, headers))  # nothing is sent yet, so a later call may replace it
        return written.append

    try:
        chunks = app(environ, start_response)
    except StopIteration as exc:  # a Future cannot carry it: the call would never end
        raise RuntimeError("the WSGI application raised StopIteration") from exc
    try:
        written.extend(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    status, headers = started[-1]
    encoded = [
        (n.strip().lower().encode("latin-1"), v.strip().encode("latin-1")) for n, v in headers
    ]
    return int(status.split(" ", 1)[0]), encoded, b"".join(written)


def asgi_of(app: WSGIApp, threads: int) -> ASGIApp:
    """``app`` as an ASGI application, run in a pool of ``threads`` (calls in flight) that the
    server's stop (the ASGI lifespan's shutdown) ends."""
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await _end_with_server(pool, receive, send)
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the caller hung up before its body arrived: no one to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        environ = environ_of(scope, b"".join(chunks))
        call = contextvars.copy_context().run
        loop = asyncio.get_running_loop()
        status, headers, body = await loop.run_in_executor(pool, call, run_wsgi, app, environ)
        if not any(name == b"content-length" for name, _ in headers):
            headers.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return serve


async def _end_with_server(pool: ThreadPoolExecutor, receive: Receive, send: Send) -> None:
    """The lifespan: at shutdown (the server has drained its connections or given up on
    them), calls not started are dropped and the threads end, idle ones at once, a busy one
    when its call returns. Not waited for: a call that never returns cannot hold up the stop."""
    await receive()  # lifespan.startup
    await send({"type": "lifespan.startup.complete"})
    await receive()  # lifespan.shutdown, once the server stops
    pool.shutdown(wait=False, cancel_futures=True)
    await send({"type": "lifespan.shutdown.complete"})
