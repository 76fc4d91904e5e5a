"""What the MQTT adapter and client share: the topics, the names of the reply's markers, and
one paho-mqtt connection that waits for the broker's CONNACK.

Requests go to ``protobench/v1/{operation}`` (the JSON-RPC method names: predict,
list_models, ...). MQTT 5 callers name their reply topic and correlation data as properties;
MQTT 3.1.1 has no properties, so those callers put ``reply_to`` and ``correlation_id`` in the
JSON body. An error answer is marked by the user property ``error=true`` (MQTT 5) or the key
``"error": true`` (3.1.1). The API key travels as the user property ``authorization`` or the
JSON key of that name, ``Bearer <key>`` as in HTTP.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

TOPIC_PREFIX = "protobench/v1/"
SHARE_GROUP = "protobench"  # replicas subscribe as $share/protobench/... and the broker balances
REPLY_TO = "reply_to"
CORRELATION_ID = "correlation_id"
AUTHORIZATION = "authorization"
ERROR_MARK = "error"
MQTT5 = MQTTProtocolVersion.MQTTv5
MQTT311 = MQTTProtocolVersion.MQTTv311
VERSIONS = {"5": MQTT5, "3.1.1": MQTT311}


class LinkError(Exception):
    """The broker could not be reached, or refused the connection."""


def split_address(address: str, default_port: int = 1883) -> tuple[str, int]:
    """``mqtt://host:port``, ``host:port`` or ``host`` -> (host, port)."""
    rest = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = rest.rpartition(":")
    if not sep:
        return rest, default_port
    if not port.isdigit():
        raise LinkError(f"an MQTT broker address is host:port, not {address!r}")
    return host.strip("[]"), int(port)


def open_link(
    address: tuple[str, int],
    version: MQTTProtocolVersion,
    *,
    client_id: str,
    timeout: float,
    on_message: Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None],
    tls: ssl.SSLContext | None = None,
) -> mqtt.Client:
    """A connected client with its network thread running; LinkError when the broker cannot be
    reached or refuses (an MQTT 3.1.1-only broker refuses version 5, a TLS listener a plain
    connection). ``tls``: speak TLS to the broker, verified by this context."""
    # No reconnecting in the network thread: its wait between attempts sleeps in whole seconds
    # and would hold loop_stop() for a second after every refusal (a 3.1.1 broker refusing 5).
    # A client whose link is lost gets NOT_READY and opens a new link on its next call.
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=version,
        reconnect_on_failure=False,
    )
    if tls is not None:
        client.tls_set_context(tls)
    answered = threading.Event()
    verdict: list[Any] = []

    def on_connect(_c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        verdict.append(reason)
        answered.set()

    def on_disconnect(_c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not answered.is_set():
            verdict.append(reason)
            answered.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    client.on_message = on_message
    try:
        client.connect(*address, keepalive=60)
    except ssl.SSLError as exc:
        where = f"{address[0]}:{address[1]}"
        raise LinkError(f"TLS with the MQTT broker at {where} failed: {exc}") from exc
    except OSError as exc:
        raise LinkError(
            f"cannot reach the MQTT broker at {address[0]}:{address[1]}: {exc}"
        ) from exc
    sock = client.socket()
    if isinstance(sock, socket.socket):
        # paho leaves Nagle on: a PUBACK then the next PUBLISH would wait for a delayed ACK
        # (40 ms on Linux) and every call would take about 100 ms.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.loop_start()
    if not answered.wait(timeout) or verdict[0].is_failure:
        client.disconnect()  # first: it wakes the network thread, which loop_stop joins
        client.loop_stop()
        reason = verdict[0] if verdict else f"no CONNACK within {timeout}s"
        raise LinkError(f"the MQTT broker refused MQTT {version.name}: {reason}")
    client.on_disconnect = None
    return client


def subscribe(client: mqtt.Client, topic: str, timeout: float) -> None:
    """Subscribe at QoS 1 and wait for the SUBACK, so nothing published after is missed."""
    done = threading.Event()
    granted: list[Any] = []

    def on_subscribe(_c: mqtt.Client, _u: Any, _mid: int, codes: Any, _p: Any) -> None:
        granted.extend(codes)
        done.set()

    client.on_subscribe = on_subscribe
    result, _ = client.subscribe(topic, qos=1)
    if result != mqtt.MQTT_ERR_SUCCESS or not done.wait(timeout):
        raise LinkError(f"the MQTT broker did not confirm the subscription to {topic}")
    refused = [code for code in granted if code.is_failure]
    if refused:
        raise LinkError(f"the MQTT broker refused the subscription to {topic}: {refused[0]}")
