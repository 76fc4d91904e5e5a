"""MQTT's topics are the JSON-RPC method names, so its operations are the core's."""

from __future__ import annotations

from protobench.core.service import OPERATIONS
from servers.mqtt_server import BY_OPERATION


def test_every_core_operation_has_its_topic() -> None:
    assert set(BY_OPERATION) == set(OPERATIONS)
