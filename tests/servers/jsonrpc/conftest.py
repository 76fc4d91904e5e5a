"""One real JSON-RPC server for the spec tests, with small limits so they are cheap to reach."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import RunningServer, running_server

MAX_BATCH = 8
MAX_BODY_BYTES = 64 * 1024


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    env = {
        "PROTOBENCH_JSONRPC_MAX_BATCH": str(MAX_BATCH),
        "PROTOBENCH_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
    }
    workdir = tmp_path_factory.mktemp("jsonrpc-spec")
    with running_server("jsonrpc", workdir, models_dir, env=env) as running:
        yield running


@pytest.fixture(scope="module")
def module_http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://{server.target}", timeout=10.0) as client:
        yield client


@pytest.fixture
def http(server: RunningServer, module_http: httpx.Client) -> Iterator[httpx.Client]:
    """Raw HTTP to the server; after each test, the server must still be running."""
    yield module_http
    assert server.process.poll() is None, f"the server died:\n{server.log()}"
