"""A real mosquitto (the MQTT 5 broker) for the module, stopped after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.mosquitto import running_mosquitto


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a running mosquitto."""
    with running_mosquitto(tmp_path_factory.mktemp("mosquitto")) as address:
        yield address
