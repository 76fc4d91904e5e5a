"""MQTT request/response on one plain socket, without a network thread: the Locust users' path.

paho-mqtt gives every client a network thread (a greenlet under gevent) that selects, reads each
packet in small pieces and hands the answer over through locks and events; under load that cost
half the broker's and server's CPU per request (docs/loadtests.md). A closed-model user has one
request in flight, so here the caller does the work itself on a socket gevent can patch:

- CONNECT (MQTT 5, or 3.1.1 when the broker refuses 5; clean session) and SUBSCRIBE to the reply
  topic at QoS 1, waiting for CONNACK and SUBACK;
- each call: one PUBLISH at QoS 1 built from a template encoded once (only its packet id and
  correlation key change), then packets read until the answer with that key arrives. The
  broker's PUBACK is read and dropped; the answer's own PUBACK goes out with the next PUBLISH
  (or at close); an answer with another key (a late one, after a timeout) is dropped;
- MQTT 5 carries the reply topic, the key and the API key as properties, 3.1.1 in the JSON body,
  as ``clients.mqtt_client`` sends them over paho.

A connection idle for half the keep-alive is replaced before the next call, so the broker never
drops it for silence in the middle of one. A broken connection raises ``WireError`` and is
reopened on the next call; a call with no answer in time raises ``TimeoutError``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import time
from collections.abc import Callable
from typing import Any

import orjson

from protobench.mqtt_link import AUTHORIZATION, CORRELATION_ID, ERROR_MARK, REPLY_TO, TOPIC_PREFIX

CONNECT, CONNACK, PUBLISH, SUBSCRIBE, SUBACK, DISCONNECT = 0x10, 0x20, 0x30, 0x82, 0x90, 0xE0
QOS1 = 0x02  # in a PUBLISH's first byte
KEEPALIVE_S = 60
IDLE_LIMIT_S = KEEPALIVE_S / 2
KEY_DIGITS = 16
RESPONSE_TOPIC, CORRELATION_DATA, USER_PROPERTY = 0x08, 0x09, 0x26
# MQTT 5 properties by identifier: fixed-size ones with their size; 0x0B is a variable byte
# integer, 0x26 a string pair, every other one a single length-prefixed string or binary.
FIXED_PROPERTIES = {
    **dict.fromkeys((0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A), 1),
    **dict.fromkeys((0x13, 0x21, 0x22, 0x23), 2),
    **dict.fromkeys((0x02, 0x11, 0x18, 0x27), 4),
}
SUBSCRIPTION_ID = 0x0B


class WireError(Exception):
    """The broker could not be reached, refused the connection, or the connection broke."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        value, digit = divmod(value, 128)
        out.append(digit | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _string(value: bytes) -> bytes:
    return struct.pack(">H", len(value)) + value


def _read_string(data: bytes, at: int) -> tuple[bytes, int]:
    end = at + 2 + int.from_bytes(data[at : at + 2], "big")
    return data[at + 2 : end], end


def packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _varint(len(body)) + body


def reply_properties(data: bytes, at: int) -> tuple[bytes | None, bool, int]:
    """An MQTT 5 PUBLISH's correlation data and error mark, and where its payload starts."""
    length, at = _read_varint(data, at)
    end, correlation, error = at + length, None, False
    while at < end:
        ident = data[at]
        at += 1
        if ident in FIXED_PROPERTIES:
            at += FIXED_PROPERTIES[ident]
        elif ident == SUBSCRIPTION_ID:
            _, at = _read_varint(data, at)
        elif ident == USER_PROPERTY:
            name, at = _read_string(data, at)
            value, at = _read_string(data, at)
            error = error or (name == ERROR_MARK.encode() and value == b"true")
        else:
            value, at = _read_string(data, at)
            if ident == CORRELATION_DATA:
                correlation = value
    return correlation, error, end


class Template:
    """One request's PUBLISH, encoded once: per call, only the packet id and the key change."""

    def __init__(self, operation: str, params: dict[str, Any], *, mqtt5: bool, reply_topic: str,
                 api_key: str | None) -> None:  # fmt: skip
        topic = _string((TOPIC_PREFIX + operation).encode())
        key = b"0" * KEY_DIGITS
        if mqtt5:
            properties = bytes([RESPONSE_TOPIC]) + _string(reply_topic.encode())
            properties += bytes([CORRELATION_DATA]) + struct.pack(">H", KEY_DIGITS)
            key_offset = len(properties)
            properties += key
            if api_key:
                properties += bytes([USER_PROPERTY]) + _string(AUTHORIZATION.encode())
                properties += _string(f"Bearer {api_key}".encode())
            head = _varint(len(properties))
            key_offset += len(head)
            variable = head + properties
            payload = _dumps(params)
        else:  # the key last in the JSON: it sits just before the closing quote and brace
            body = dict(params)
            if api_key:
                body[AUTHORIZATION] = f"Bearer {api_key}"
            body[REPLY_TO] = reply_topic
            body[CORRELATION_ID] = key.decode()
            payload = _dumps(body)
            variable = b""
            key_offset = len(payload) - 2 - KEY_DIGITS
        rest = topic + b"\x00\x00" + variable
        if not mqtt5:
            key_offset += len(rest)
        encoded = packet(PUBLISH | QOS1, rest + payload)
        fixed = len(encoded) - len(rest) - len(payload)
        self.packet_id_at = fixed + len(topic)
        self.key_at = fixed + len(topic) + 2 + key_offset if mqtt5 else fixed + key_offset
        self.bytes = encoded

    def build(self, packet_id: int, key: bytes) -> bytearray:
        data = bytearray(self.bytes)
        data[self.packet_id_at : self.packet_id_at + 2] = packet_id.to_bytes(2, "big")
        data[self.key_at : self.key_at + KEY_DIGITS] = key
        return data


class MqttWire:
    """One connection to the broker for one caller at a time."""

    def __init__(self, address: tuple[str, int], *, versions: tuple[bool, ...], client_id: str,
                 reply_topic: str, timeout: float, api_key: str | None,
                 tls: ssl.SSLContext | None) -> None:  # fmt: skip
        """``versions``: True for MQTT 5, False for 3.1.1, tried in that order."""
        self.address = address
        self.versions = versions
        self.client_id = client_id
        self.reply_topic = reply_topic
        self.timeout = timeout
        self.api_key = api_key
        self.tls = tls
        self.mqtt5 = versions[0]
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._ack = b""  # the PUBACKs of answers read, sent with the next PUBLISH
        self._packet_id = 0
        self._key = 0
        self._last_used = 0.0

    # -- connection ------------------------------------------------------------------------------

    def _open(self, mqtt5: bool) -> socket.socket:
        try:
            sock = socket.create_connection(self.address, timeout=self.timeout)
        except OSError as exc:
            where = f"{self.address[0]}:{self.address[1]}"
            raise WireError(f"cannot reach the MQTT broker at {where}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_hostname=self.address[0])
        self._sock, self._buffer, self._ack = sock, bytearray(), b""
        level = b"\x05" if mqtt5 else b"\x04"
        no_properties = b"\x00" if mqtt5 else b""
        variable = _string(b"MQTT") + level + b"\x02" + struct.pack(">H", KEEPALIVE_S)
        sock.sendall(packet(CONNECT, variable + no_properties + _string(self.client_id.encode())))
        first, body = self._read()
        if first != CONNACK or len(body) < 2 or body[1] != 0:
            raise WireError(f"the MQTT broker refused MQTT {'5' if mqtt5 else '3.1.1'}")
        subscribe = b"\x00\x01" + no_properties + _string(self.reply_topic.encode()) + b"\x01"
        sock.sendall(packet(SUBSCRIBE, subscribe))
        first, body = self._read()
        codes = body[_read_varint(body, 2)[1] :] if mqtt5 else body[2:]
        if first != SUBACK or not codes or codes[0] >= 0x80:
            raise WireError(f"the MQTT broker refused the subscription to {self.reply_topic}")
        return sock

    def _connected(self) -> socket.socket:
        now = time.monotonic()
        if self._sock is not None and now - self._last_used > IDLE_LIMIT_S:
            self.close()
        self._last_used = now
        if self._sock is not None:
            return self._sock
        problem = WireError("no MQTT version to try")
        for mqtt5 in self.versions:
            try:
                sock = self._open(mqtt5)
            except (WireError, OSError) as exc:
                self.close()
                problem = exc if isinstance(exc, WireError) else WireError(str(exc))
                continue
            self.mqtt5 = mqtt5
            return sock
        raise problem

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.sendall(self._ack + packet(DISCONNECT, b""))
            self._sock.close()
            self._sock = None

    # -- packets ---------------------------------------------------------------------------------

    def _read(self) -> tuple[int, bytes]:
        """The next packet: its first byte and its body."""
        assert self._sock is not None
        buffer = self._buffer
        while True:
            if len(buffer) >= 2:
                length, at, complete = 0, 1, False
                while at < len(buffer) and at < 5:
                    length |= (buffer[at] & 0x7F) << (7 * (at - 1))
                    at += 1
                    if not buffer[at - 1] & 0x80:
                        complete = True
                        break
                if complete and len(buffer) >= at + length:
                    first, body = buffer[0], bytes(buffer[at : at + length])
                    del buffer[: at + length]
                    return first, body
            chunk = self._sock.recv(65536)
            if not chunk:
                raise WireError("the MQTT broker closed the connection")
            buffer += chunk

    def prepare(self, operation: str, params: dict[str, Any]) -> Callable[[], tuple[Any, bool]]:
        """A call sent again on every invocation: its answer (the JSON document, with the
        3.1.1 reply's key and mark removed) and whether the server marked it an error."""
        templates: dict[bool, Template] = {}

        def call() -> tuple[Any, bool]:
            sock = self._connected()
            template = templates.get(self.mqtt5)
            if template is None:
                template = templates[self.mqtt5] = Template(
                    operation, params, mqtt5=self.mqtt5, reply_topic=self.reply_topic,
                    api_key=self.api_key,
                )  # fmt: skip
            self._packet_id = self._packet_id % 0xFFFF + 1
            self._key += 1
            key = b"%016x" % self._key
            try:
                sock.sendall(self._ack + template.build(self._packet_id, key))
                self._ack = b""
                return self._answer(key)
            except TimeoutError:
                raise
            except (OSError, WireError, IndexError) as exc:
                self.close()
                raise WireError(f"connection to the MQTT broker lost: {exc}") from exc

        return call

    def _answer(self, key: bytes) -> tuple[Any, bool]:
        deadline = time.monotonic() + self.timeout
        while True:
            first, body = self._read()
            if first & 0xF0 == PUBLISH:
                found = self._reply(first, body, key)
                if found is not None:
                    return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer within {self.timeout}s")

    def _reply(self, first: int, body: bytes, key: bytes) -> tuple[Any, bool] | None:
        """A PUBLISH's answer when it carries ``key``; None for any other message."""
        _, at = _read_string(body, 0)
        if first & QOS1:  # subscribed at QoS 1: an answer at QoS 1 has a packet id to PUBACK
            self._ack += b"\x40\x02" + body[at : at + 2]
            at += 2
        correlation, error = None, False
        if self.mqtt5:
            correlation, error, at = reply_properties(body, at)
        try:
            answer = orjson.loads(body[at:])
        except orjson.JSONDecodeError:  # dropped, as the paho path drops it
            return None
        if self.mqtt5:
            return (answer, error) if correlation == key else None
        if not isinstance(answer, dict) or answer.pop(CORRELATION_ID, None) != key.decode():
            return None
        return answer, answer.pop(ERROR_MARK, False) is True


def _dumps(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
