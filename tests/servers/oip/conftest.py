"""One real server per Open Inference Protocol adapter, for this folder's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import RunningServer, running_server

REPLICA = "oip-replica"


@pytest.fixture(scope="module")
def oip_rest(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("oip-rest")
    with running_server("oip-rest", workdir, models_dir, "--replica-name", REPLICA) as server:
        yield server


@pytest.fixture(scope="module")
def oip_grpc(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("oip-grpc")
    with running_server("oip-grpc", workdir, models_dir, "--replica-name", REPLICA) as server:
        yield server
