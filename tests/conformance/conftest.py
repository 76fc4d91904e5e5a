"""The conformance suite: each test runs once per protocol against a real server over loopback.

A protocol joins by having a spec in the registry (``protobench.protocols``); nothing here
changes. Every registered protocol runs: none is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clients import connect
from clients.base import InferenceClient
from protobench.protocols import Protocol
from tests.support.protocols import protocol_params
from tests.support.servers import RunningServer, running_server

REPLICA = "conformance-replica"


@pytest.fixture(scope="session", params=protocol_params())
def protocol(request: pytest.FixtureRequest) -> Protocol:
    name: Protocol = request.param
    return name


@pytest.fixture(scope="session")
def server(
    protocol: Protocol, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp(f"server-{protocol}")
    with running_server(protocol, workdir, models_dir, "--replica-name", REPLICA) as running:
        yield running


@pytest.fixture
def client(server: RunningServer) -> Iterator[InferenceClient]:
    with connect(server.protocol, server.target) as client:
        yield client
    assert server.process.poll() is None, f"the server died:\n{server.log()}"
