"""A Thrift server in this process on a free loopback port (the subprocess path, signals and
all, is the conformance suite's)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from protobench.core.service import InferenceService
from servers.listen import Listen, bind_socket
from servers.thrift_server import ThriftServer


@contextmanager
def serving(service: InferenceService) -> Iterator[str]:
    """Yield the target of a Thrift server over ``service``; stop it afterwards."""
    sock = bind_socket(Listen("127.0.0.1", 0))
    server = ThriftServer(service, sock)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.stop()
        thread.join(15)


@pytest.fixture
def target(service: InferenceService) -> Iterator[str]:
    with serving(service) as target:
        yield target
