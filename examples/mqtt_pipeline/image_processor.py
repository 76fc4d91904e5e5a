"""The lecture's level-1 microservices, runnable: camera -> image processor -> MQTT queue ->
estimator.

    protobench serve --protocol mqtt --port 1883        # the estimator (and an embedded broker)
    python image_processor.py 127.0.0.1:1883 --images 50

The "camera" is scikit-learn's handwritten digits, enlarged to 32x32 grey frames with noise.
This service does what the monolith's image step did: it finds the digit in each frame, cuts
it out, shrinks it to the 8x8 the model was trained on, and publishes it as a PNG to the queue topic
protobench/v1/predict_image. It never calls the estimator directly: the broker carries the
request, and the answer comes back on this service's own reply topic (MQTT 3.1.1's reply_to
and correlation_id). Either side can be restarted without the other knowing its address.
Uses paho-mqtt, numpy, Pillow and scikit-learn only.
"""

import argparse
import base64
import io
import json
import queue
import time
import uuid

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from PIL import Image
from sklearn.datasets import load_digits


def camera(count: int, seed: int = 7) -> list[tuple[np.ndarray, int]]:
    """``count`` 32x32 frames (0-255, light ink on dark) with the digit each one shows."""
    digits = load_digits()
    rng = np.random.default_rng(seed)
    frames = []
    for index in rng.choice(len(digits.images), size=count, replace=False):
        big = np.kron(digits.images[index], np.ones((3, 3))) * 255 / 16  # 24x24
        frame = np.zeros((32, 32))
        top, left = rng.integers(0, 9, size=2)
        frame[top : top + 24, left : left + 24] = big
        frame = np.clip(frame + rng.normal(0, 8, frame.shape), 0, 255)
        frames.append((frame, int(digits.target[index])))
    return frames


def process(frame: np.ndarray) -> bytes:
    """Find the digit, cut it out, shrink it to 8x8, encode it as PNG: the image step of the
    pipeline. The cut is a 24x24 window centred on the ink's bounding box, the way the
    training digits were centred; each 3x3 block of it becomes one pixel."""
    rows, cols = np.nonzero(frame > 64)
    centre_y, centre_x = (rows.min() + rows.max()) / 2, (cols.min() + cols.max()) / 2
    top = int(np.clip(round(centre_y - 11.5), 0, 8))
    left = int(np.clip(round(centre_x - 11.5), 0, 8))
    small = frame[top : top + 24, left : left + 24].reshape(8, 3, 8, 3).mean(axis=(1, 3))
    buffer = io.BytesIO()
    Image.fromarray(small.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("broker", help="the MQTT broker, HOST:PORT")
    parser.add_argument("--images", type=int, default=50, help="frames to send (default 50)")
    args = parser.parse_args()
    host, _, port = args.broker.rpartition(":")

    answers: queue.Queue[dict] = queue.Queue()
    reply_topic = f"pipeline/replies/{uuid.uuid4().hex}"
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv311)
    client.on_message = lambda _c, _u, message: answers.put(json.loads(message.payload))
    client.connect(host, int(port))
    client.loop_start()
    client.subscribe(reply_topic, qos=1)

    frames = camera(args.images)
    expected = {}
    started = time.perf_counter()
    for frame, digit in frames:  # publish them all: the queue buffers, the estimator drains
        correlation = uuid.uuid4().hex
        expected[correlation] = digit
        request = {"model": "digits", "image": base64.b64encode(process(frame)).decode(),
                   "reply_to": reply_topic, "correlation_id": correlation}  # fmt: skip
        client.publish("protobench/v1/predict_image", json.dumps(request), qos=1)
    right = answered = 0
    while answered < len(frames):
        answer = answers.get(timeout=30)
        answered += 1
        digit = expected[answer["correlation_id"]]
        label = answer.get("code") if answer.get("error") else answer["predictions"][0]["label"]
        right += label == str(digit)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    print(f"{answered} frames answered through the queue in {elapsed:.2f} s")
    print(f"accuracy {right / answered:.2f} ({right}/{answered} digits right)")


if __name__ == "__main__":
    main()
