"""The four protocols protobench speaks, and the port each listens on unless told otherwise."""

from __future__ import annotations

from typing import Literal, get_args

Protocol = Literal["rest", "grpc", "graphql", "jsonrpc"]
PROTOCOLS: tuple[Protocol, ...] = get_args(Protocol)

DEFAULT_PORTS: dict[Protocol, int] = {"rest": 8000, "grpc": 50051, "graphql": 8100, "jsonrpc": 8200}
