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


def load_serve(protocol: Protocol) -> ServeFunction:
    """The protocol's ``serve``, imported on first use (grpcio must not load before a fork)."""
    module = importlib.import_module(SERVER_MODULES[protocol])
    return cast(ServeFunction, module.serve)
