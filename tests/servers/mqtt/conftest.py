"""The MQTT server on its embedded broker, and a real mosquitto (the MQTT 5 broker), each
started once for this folder's tests and stopped after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mosquitto import running_mosquitto
from tests.support.servers import RunningServer, running_server


@pytest.fixture(scope="package")
def embedded(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server("mqtt", tmp_path_factory.mktemp("mqtt"), models_dir) as running:
        yield running


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a running mosquitto."""
    with running_mosquitto(tmp_path_factory.mktemp("mosquitto")) as address:
        yield address
