"""MQTT's predict for the CPU breakdown (``protobench.codec``), in MQTT 3.1.1 as with the
embedded broker (the reply address and correlation key inside the JSON): the adapter's reply
payload, the client's request payload and its reading of the reply as its network thread
delivers it.

Over the wire the server's CPU is the replica's process, which holds the embedded broker too:
a call's floor (``health``) is the broker taking the request, handing it to the adapter,
taking the answer and handing it to the client, plus the adapter's own cheapest operation."""

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from clients.mqtt_client import MqttClient, _Pending
from protobench.codec import MODEL, ROW, UNUSED_TARGET, Codec
from protobench.core.types import PredictResponse
from servers.mqtt_server import BY_OPERATION, _reply_to, reply, result_document

PREDICT = BY_OPERATION["predict"]


def codec() -> Codec:
    client = MqttClient(UNUSED_TARGET)  # never connected: MQTT 3.1.1, as to the embedded broker
    link = mqtt.Client(CallbackAPIVersion.VERSION2)  # the network thread's, unconnected
    _, request = client._encoded({"model": MODEL, "instances": [ROW]})
    address = _reply_to(orjson.loads(request))  # where the adapter answers that request
    assert address is not None and isinstance(address.correlation, str)
    key = address.correlation

    def server_encode(answer: PredictResponse) -> bytes:
        return reply(address, result_document(PREDICT, answer), error=False)[0]

    def client_encode(rows: list[list[float]]) -> bytes:
        return client._encoded({"model": MODEL, "instances": rows})[1]

    def client_decode(payload: bytes) -> PredictResponse:
        pending = _Pending()
        client._pending[key] = pending
        message = mqtt.MQTTMessage(topic=address.topic.encode())
        message.payload = payload
        client._on_message(link, None, message)
        return PredictResponse.model_validate(client._wait(key, pending, "predict"))

    return Codec(server_encode, client_encode, client_decode)
