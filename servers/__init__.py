"""One thin adapter per protocol over protobench's core service, and how to start them.

Each adapter module exposes ``serve(service, listen)``, which blocks until SIGINT/SIGTERM and
then shuts down gracefully.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from protobench.core.service import InferenceService
from protobench.protocols import Protocol
from servers.listen import Listen

SERVER_MODULES: dict[Protocol, str] = {
    "rest": "servers.rest_server",
    "grpc": "servers.grpc_server",
    "graphql": "servers.graphql_server",
    "jsonrpc": "servers.jsonrpc_server",
}

ServeFunction = Callable[[InferenceService, Listen], None]


class NotBuiltError(RuntimeError):
    """The protocol is named but its adapter is not part of this build."""


def load_serve(protocol: Protocol) -> ServeFunction:
    module_name = SERVER_MODULES[protocol]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise NotBuiltError(f"the {protocol} server is not built yet") from None
    return cast(ServeFunction, module.serve)
