"""MQTT packets as a person reads them, for the playground's "on the wire" view: one line per
control packet (its type, flags, packet id, topic), the MQTT 5 properties decoded (Response
Topic, Correlation Data, user properties) and a PUBLISH payload shown as its JSON text.

What the relay sees is the caller's leg only, caller <-> broker; the broker's own leg to the
adapter and back is the other half of a call's four network legs (docs/mqtt.md).
"""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

MAX_PAYLOAD_CHARS = 4000
NAMES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL",
         7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK",
         12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH"}  # fmt: skip
MQTT5_LEVEL = 5


def protocol_level(up: bytes) -> int:
    """The protocol level (4: 3.1.1, 5: MQTT 5) of the client's last CONNECT: a client that
    tries MQTT 5 first and is refused connects again with 3.1.1. 4 if none is seen."""
    level = 4
    for _, first, body in _packets(up):
        name_length = int.from_bytes(body[:2], "big")
        if first >> 4 == PacketTypes.CONNECT and len(body) > 2 + name_length:
            level = body[2 + name_length]
    return level


def render(data: bytes, show_from: int, level: int) -> str:
    """One block per packet that starts at or after ``show_from``."""
    lines: list[str] = []
    for offset, first, body in _packets(data):
        if offset >= show_from:
            lines.extend(_describe(first, body, level))
    return "\n".join(lines)


def _packets(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, first byte, body) of each whole packet: the fixed header is the first byte and
    the remaining length, a variable byte integer of 1 to 4 bytes."""
    found = []
    offset = 0
    while offset + 2 <= len(data):
        length, shift, index = 0, 0, offset + 1
        while index < len(data) and index < offset + 5:
            byte = data[index]
            length |= (byte & 0x7F) << shift
            shift += 7
            index += 1
            if not byte & 0x80:
                break
        else:
            break
        if index + length > len(data):
            break
        found.append((offset, data[offset], data[index : index + length]))
        offset = index + length
    return found


def _describe(first: int, body: bytes, level: int) -> list[str]:
    kind = first >> 4
    title = f"{NAMES.get(kind, f'type {kind}')} ({len(body)} bytes after its fixed header)"
    if kind == PacketTypes.PUBLISH:
        return _publish(first, body, level)
    if kind in (PacketTypes.PUBACK, PacketTypes.SUBACK, PacketTypes.UNSUBACK) and len(body) >= 2:
        return [f"{title}, packet id {int.from_bytes(body[:2], 'big')}"]
    return [title]


def _publish(first: int, body: bytes, level: int) -> list[str]:
    qos = (first >> 1) & 0x03
    topic_length = int.from_bytes(body[:2], "big")
    topic = body[2 : 2 + topic_length].decode("utf-8", errors="replace")
    offset = 2 + topic_length
    title = f"PUBLISH QoS {qos} topic {topic}"
    if qos:
        title += f", packet id {int.from_bytes(body[offset : offset + 2], 'big')}"
        offset += 2
    lines = [title]
    if level >= MQTT5_LEVEL:
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        _, used = properties.unpack(body[offset:])  # type: ignore[no-untyped-call]
        offset += used
        for name, value in properties.json().items():  # type: ignore[no-untyped-call]
            shown = bytes(value).decode(errors="replace") if name == "CorrelationData" else value
            lines.append(f"  property {name}: {shown}")
    payload = body[offset:].decode("utf-8", errors="replace")
    if len(payload) > MAX_PAYLOAD_CHARS:
        payload = payload[:MAX_PAYLOAD_CHARS] + f"\n… ({len(body) - offset} bytes in all)"
    lines.append(f"  payload ({len(body) - offset} bytes): {payload}")
    return lines
