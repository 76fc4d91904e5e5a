"""The playground's "on the wire" view of an MQTT call (protobench/playground/wire_mqtt.py),
recorded through the bench's counting relay from a real call on the embedded broker."""

from __future__ import annotations

import orjson
import pytest

from clients.mqtt_client import MqttClient
from protobench.playground.exchange import record
from tests.support.servers import RunningServer

pytestmark = pytest.mark.mqtt

VIRGINICA = [6.7, 3.0, 5.2, 2.3]


def test_the_exchange_reads_as_mqtt_packets(embedded: RunningServer) -> None:
    exchange, answer = record(
        "mqtt", embedded.host, embedded.port, lambda c: c.predict("iris", [VIRGINICA])
    )
    request, response = exchange.request_text.splitlines(), exchange.response_text.splitlines()
    assert request[0].startswith("PUBLISH QoS 1 topic protobench/v1/predict, packet id ")
    sent = orjson.loads(request[1].split(": ", 1)[1])  # the payload, as JSON text
    assert sent["instances"] == [VIRGINICA] and sent["reply_to"].startswith("protobench/v1/")
    assert any(line.startswith("PUBACK") for line in request)  # QoS 1: the answer acknowledged
    assert response[0].startswith("PUBACK")  # the request acknowledged by the broker
    publish = next(i for i, line in enumerate(response) if line.startswith("PUBLISH"))
    assert f"topic {sent['reply_to']}" in response[publish]
    received = orjson.loads(response[publish + 1].split(": ", 1)[1])
    assert received["correlation_id"] == sent["correlation_id"]
    assert received["predictions"][0]["label"] == "virginica"
    assert answer.predictions[0].label == "virginica"  # type: ignore[attr-defined]
    with MqttClient(embedded.target) as client:
        assert client.health().ready
