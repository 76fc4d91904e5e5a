"""MQTT request/response with plain paho-mqtt clients, as any other program would talk to it:
MQTT 3.1.1 through the embedded amqtt broker, MQTT 5 through a real mosquitto, replicas sharing
the requests through a shared subscription, and requests nobody can answer dropped."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from clients.mqtt_client import MqttClient
from tests.support.servers import RunningServer, running_server

pytestmark = pytest.mark.mqtt

SETOSA = [5.1, 3.5, 1.4, 0.2]


class Paho:
    """A bare paho client subscribed to its own reply topic, collecting what arrives."""

    def __init__(self, target: str, version: MQTTProtocolVersion) -> None:
        host, _, port = target.rpartition(":")
        self.reply_topic = f"test/replies/{uuid.uuid4().hex}"
        self.received: list[mqtt.MQTTMessage] = []
        self.arrived = threading.Event()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=version)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.connect(host, int(port))
        self.client.loop_start()
        self.client.subscribe(self.reply_topic, qos=1)
        assert self.subscribed.wait(10)

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        self.received.append(message)
        self.arrived.set()

    def ask(self, topic: str, payload: bytes, properties: Properties | None = None) -> Any:
        self.arrived.clear()
        self.client.publish(topic, payload, qos=1, properties=properties)
        assert self.arrived.wait(15), "no answer"
        return self.received[-1]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_mqtt_311_through_the_embedded_broker(embedded: RunningServer) -> None:
    paho = Paho(embedded.target, MQTTProtocolVersion.MQTTv311)
    try:
        request = {"model": "iris", "instances": [SETOSA], "reply_to": paho.reply_topic,
                   "correlation_id": "c-1"}  # fmt: skip
        answer = orjson.loads(paho.ask("protobench/v1/predict", orjson.dumps(request)).payload)
        assert answer["correlation_id"] == "c-1"
        assert answer["predictions"][0]["label"] == "setosa"
        assert "error" not in answer
        request = {"name": "nope", "reply_to": paho.reply_topic, "correlation_id": "c-2"}
        error = orjson.loads(paho.ask("protobench/v1/get_model", orjson.dumps(request)).payload)
        assert error["error"] is True and error["correlation_id"] == "c-2"
        assert error["code"] == "NOT_FOUND" and error["details"] == {"model": "nope"}
    finally:
        paho.close()


def test_a_request_with_no_reply_address_is_dropped_and_logged(embedded: RunningServer) -> None:
    paho = Paho(embedded.target, MQTTProtocolVersion.MQTTv311)
    try:
        paho.client.publish("protobench/v1/predict", b'{"model": "iris"}', qos=1).wait_for_publish(
            5
        )
        deadline = time.monotonic() + 10
        while "dropped an MQTT request" not in embedded.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "dropped an MQTT request on protobench/v1/predict" in embedded.log()
        with MqttClient(embedded.target) as client:  # and the server goes on
            assert client.predict("iris", [SETOSA]).predictions[0].label == "setosa"
    finally:
        paho.close()


@pytest.fixture(scope="module")
def on_mosquitto(
    mosquitto: str, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[RunningServer]]:
    """Two replicas on one mosquitto, sharing the requests."""
    args = ("--broker", f"mqtt://{mosquitto}")
    with (
        running_server(
            "mqtt", tmp_path_factory.mktemp("a"), models_dir, *args, "--replica-name", "a"
        ) as a,
        running_server(
            "mqtt", tmp_path_factory.mktemp("b"), models_dir, *args, "--replica-name", "b"
        ) as b,
    ):
        yield [a, b]


def test_mqtt_5_response_topic_and_correlation_data(
    mosquitto: str, on_mosquitto: list[RunningServer]
) -> None:
    paho = Paho(mosquitto, MQTTProtocolVersion.MQTTv5)
    try:
        properties = Properties(PacketTypes.PUBLISH)
        properties.ResponseTopic = paho.reply_topic
        properties.CorrelationData = b"\x00\x01binary"
        request = orjson.dumps({"model": "iris", "instances": [SETOSA]})
        answer = paho.ask("protobench/v1/predict", request, properties)
        assert answer.properties.CorrelationData == b"\x00\x01binary"
        assert answer.qos == 1
        assert orjson.loads(answer.payload)["predictions"][0]["label"] == "setosa"
        assert not getattr(answer.properties, "UserProperty", None)
        models = paho.ask("protobench/v1/list_models", b"{}", properties)
        assert {m["name"] for m in orjson.loads(models.payload)} == {"iris", "digits"}
        error = paho.ask(
            "protobench/v1/predict", b'{"model": "iris", "instances": [[1]]}', properties
        )
        assert ("error", "true") in error.properties.UserProperty
        assert orjson.loads(error.payload)["code"] == "INVALID_INPUT"
    finally:
        paho.close()


def test_replicas_share_the_requests_through_the_broker(
    mosquitto: str, on_mosquitto: list[RunningServer]
) -> None:
    with MqttClient(mosquitto, version="5") as client:
        served = [client.predict("iris", [SETOSA]).served_by for _ in range(40)]
    assert set(served) == {"a", "b"}, served  # each request went to exactly one replica
