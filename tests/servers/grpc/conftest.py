"""gRPC servers for the adapter tests: in process (on an event loop in a background thread)
when the test needs to reach inside the service, as a subprocess (tests.support.servers) when
it needs signals or a fresh process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import grpc
import pytest
from grpc_health.v1._async import HealthServicer

from clients.grpc_client import GrpcClient
from protobench.core.service import InferenceService
from servers.grpc_server import build_server
from servers.listen import Listen


class LoopThread:
    """An event loop running in a thread of its own, for the server under test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.submit(coroutine).result(30)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@contextmanager
def serving_with_health(
    service: InferenceService, host: str = "127.0.0.1"
) -> Iterator[tuple[str, HealthServicer, LoopThread]]:
    """The adapter's server, started in this process on a free port: its target, its health
    servicer (NOT_SERVING until told) and the loop it runs on."""
    loop = LoopThread()
    try:
        server, health_servicer, port = loop.run(build_server(service, Listen(host, 0)))
        loop.run(server.start())
        try:
            yield (f"[{host}]:{port}" if ":" in host else f"{host}:{port}"), health_servicer, loop
        finally:
            loop.run(server.stop(None))
    finally:
        loop.close()


@contextmanager
def serving(service: InferenceService, host: str = "127.0.0.1") -> Iterator[str]:
    with serving_with_health(service, host) as (target, _, _):
        yield target


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
