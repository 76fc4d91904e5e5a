"""Call protobench's MQTT service with paho-mqtt: a request message, an answer message back.

    python mqtt_paho.py 127.0.0.1:1883

Start the server first: protobench serve --protocol mqtt --port 1883 (an embedded broker,
MQTT 3.1.1). With an MQTT 5 broker (mosquitto), ResponseTopic and CorrelationData properties
replace the "reply_to" and "correlation_id" keys used here (pip install paho-mqtt).
"""

import json
import queue
import sys
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion


def main(target: str) -> None:
    host, _, port = target.rpartition(":")
    answers: queue.Queue[dict] = queue.Queue()
    reply_topic = f"examples/replies/{uuid.uuid4().hex}"

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv311)
    client.on_message = lambda _c, _u, message: answers.put(json.loads(message.payload))
    client.connect(host, int(port))
    client.loop_start()  # paho's network thread delivers the answers
    client.subscribe(reply_topic, qos=1)

    def ask(operation: str, params: dict) -> dict:
        """Publish to protobench/v1/<operation>, naming where and how to answer."""
        request = {**params, "reply_to": reply_topic, "correlation_id": uuid.uuid4().hex}
        client.publish(f"protobench/v1/{operation}", json.dumps(request), qos=1)
        answer = answers.get(timeout=10)
        assert answer["correlation_id"] == request["correlation_id"]
        return answer

    try:
        flower = [5.1, 3.5, 1.4, 0.2]
        answer = ask("predict", {"model": "iris", "instances": [flower]})
        print(f"predict {flower} -> {answer['predictions'][0]['label']} "
              f"(served by {answer['served_by']})")  # fmt: skip
        models = ask("list_models", {})["models"]  # MQTT 3.1.1 wraps a list answer
        print(f"list_models -> {[m['name'] for m in models]}")
        error = ask("predict", {"model": "iris", "instances": [[1.0]]})
        print(
            f"predict with 1 feature -> error {error['error']}, {error['code']}: {error['message']}"
        )
    finally:
        client.disconnect()
        client.loop_stop()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python mqtt_paho.py HOST:PORT")
    main(sys.argv[1])
