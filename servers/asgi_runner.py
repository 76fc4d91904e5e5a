"""Running an ASGI app (REST, GraphQL, JSON-RPC) on uvicorn with uvloop and httptools."""

from __future__ import annotations

from typing import Any

import uvicorn

from protobench.core.service import InferenceService
from servers.listen import Listen, announce, bind_socket

GRACEFUL_SHUTDOWN_S = 10


def serve_asgi(app: Any, protocol: str, service: InferenceService, listen: Listen) -> None:
    """Bind, start loading the models, announce the port, then serve until SIGINT/SIGTERM.

    uvicorn handles both signals itself: it stops accepting, lets in-flight requests finish
    (up to ``GRACEFUL_SHUTDOWN_S``), then exits.
    """
    sock = bind_socket(listen)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    service.load_in_background()
    announce(listen, protocol, sock.getsockname()[1])
    uvicorn.Server(config).run(sockets=[sock])
