"""gRPC servers for the adapter tests: in process when the test needs to reach inside the
service, as a subprocess (tests.support.servers) when it needs signals or a fresh process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import pytest

from clients.grpc_client import GrpcClient
from protobench.core.service import InferenceService
from servers.grpc_server import build_server
from servers.listen import Listen


@contextmanager
def serving(service: InferenceService, host: str = "127.0.0.1") -> Iterator[str]:
    """Start the adapter's server in this process on a free port; yield its target."""
    server, _, port = build_server(service, Listen(host, 0))
    server.start()
    try:
        yield f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    finally:
        server.stop(None)


@pytest.fixture
def target(service: InferenceService) -> Iterator[str]:
    with serving(service) as target:
        yield target


@pytest.fixture
def client(target: str) -> Iterator[GrpcClient]:
    with GrpcClient(target, timeout=10.0) as client:
        yield client


@pytest.fixture
def channel(target: str) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(target) as channel:
        yield channel
