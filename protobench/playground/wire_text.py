"""Bytes on the wire as a person reads them.

- HTTP/1.1 (REST, GraphQL, JSON-RPC, ...): the text as sent, headers included; a binary body is
  summarised in hex.
- HTTP/2 (gRPC): one line per frame; HEADERS decoded from HPACK, DATA split into gRPC's 5-byte
  length prefix and the protobuf message, in annotated hex and then decoded field by field.
- MQTT through a broker: one line per control packet, PUBLISH payloads as text
  (``protobench.playground.wire_mqtt``).
- Anything else: a hex dump.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field

import hpack
from google.protobuf import descriptor_pool, message_factory, text_format
from google.protobuf.message import Message
from hyperframe.frame import ContinuationFrame, DataFrame, Frame, HeadersFrame

from protobench.playground import wire_mqtt
from protobench.protocols import Transport, spec

TRANSPORT_NAMES = {Transport.HTTP1: "HTTP/1.1", Transport.H2C: "HTTP/2 (h2c)",
                   Transport.TCP: "TCP", Transport.BROKER: "MQTT via the broker"}  # fmt: skip
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
TEXT_TYPES = ("json", "xml", "text", "graphql", "x-www-form-urlencoded")
MAX_BODY_CHARS = 4000
HEX_PER_LINE = 16
GRPC_PREFIX = 5


def transport_of(protocol: str) -> Transport:
    """The transport a protocol's exchange is read as, from its spec."""
    return spec(protocol).transport


def transport_name(protocol: str) -> str:
    transport = transport_of(protocol)
    return TRANSPORT_NAMES.get(transport, str(transport))


def render(protocol: str, up: bytes, down: bytes, up0: int, down0: int) -> tuple[str, str]:
    """The request (client to server) and response texts of the exchange that starts at byte
    ``up0`` of ``up`` and ``down0`` of ``down``; the bytes before are decoded for state only."""
    kind = transport_of(protocol)
    if kind == Transport.HTTP1:
        return _http1(up[up0:]), _http1(down[down0:])
    if kind == Transport.H2C:
        request = _H2Reader(client=True)
        request_text = request.read(up, up0)
        response = _H2Reader(client=False, paths=request.paths)
        return request_text, response.read(down, down0)
    if kind == Transport.BROKER:
        level = wire_mqtt.protocol_level(up[:up0])
        return wire_mqtt.render(up, up0, level), wire_mqtt.render(down, down0, level)
    return hex_dump(up[up0:]), hex_dump(down[down0:])


def hex_dump(data: bytes, indent: str = "") -> str:
    lines = []
    for start in range(0, len(data), HEX_PER_LINE):
        chunk = data[start : start + HEX_PER_LINE]
        printable = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{indent}{start:04x}  {chunk.hex(' '):<{HEX_PER_LINE * 3}} {printable}")
    return "\n".join(lines)


def _http1(data: bytes) -> str:
    head, separator, body = data.partition(b"\r\n\r\n")
    text = head.decode("latin-1").replace("\r\n", "\n") + ("\n\n" if separator else "")
    content_type = ""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-type":
            content_type = value.strip().decode("latin-1").lower()
    if not body:
        return text
    if any(kind in content_type for kind in TEXT_TYPES):
        shown = body.decode("utf-8", errors="replace")
        if len(shown) > MAX_BODY_CHARS:
            shown = shown[:MAX_BODY_CHARS] + f"\n… ({len(body)} bytes in all)"
        return text + shown
    return text + f"[{len(body)} bytes of {content_type or 'binary data'}]\n" + hex_dump(body[:64])


def _message_class(path: str, request: bool) -> type[Message] | None:
    """The protobuf class a gRPC method path carries, from the descriptors generated in
    protobench.v1 (every *_pb2 module there is imported, so a new contract is found too)."""
    import protobench.v1 as generated

    for module in pkgutil.iter_modules(generated.__path__):
        if module.name.endswith("_pb2"):
            importlib.import_module(f"{generated.__name__}.{module.name}")
    service, _, method = path.strip("/").rpartition("/")
    try:
        found = descriptor_pool.Default().FindMethodByName(f"{service}.{method}")
    except KeyError:
        return None
    cls: type[Message] = message_factory.GetMessageClass(
        found.input_type if request else found.output_type
    )
    return cls


@dataclass
class _H2Reader:
    client: bool
    paths: dict[int, str] = field(default_factory=dict)  # stream -> :path, from the request
    decoder: hpack.Decoder = field(default_factory=hpack.Decoder)
    block: bytes = b""  # a header block continued across frames

    def read(self, data: bytes, show_from: int) -> str:
        lines: list[str] = []
        offset = 0
        if data.startswith(H2_PREFACE):
            if show_from == 0:
                lines.append(f"connection preface ({len(H2_PREFACE)} bytes)")
            offset = len(H2_PREFACE)
        while offset + 9 <= len(data):
            frame, length = Frame.parse_frame_header(memoryview(data[offset : offset + 9]))
            end = offset + 9 + length
            if end > len(data):
                break
            frame.parse_body(memoryview(data[offset + 9 : end]))
            described = self._frame(frame, length)
            if offset >= show_from:
                lines.extend(described)
            offset = end
        return "\n".join(lines)

    def _frame(self, frame: Frame, length: int) -> list[str]:
        flags = ",".join(sorted(frame.flags)) or "-"
        title = f"{type(frame).__name__[:-5].upper()} stream {frame.stream_id} [{flags}] "
        title += f"{length} + 9 bytes"
        if isinstance(frame, HeadersFrame | ContinuationFrame):
            self.block += bytes(frame.data)
            if "END_HEADERS" not in frame.flags:
                return [title + " (header block continues)"]
            headers = [(str(n), str(v)) for n, v in self.decoder.decode(self.block)]
            self.block = b""
            for name, value in headers:
                if name == ":path":
                    self.paths[frame.stream_id] = str(value)
            return [title + " HPACK-compressed headers:"] + [f"  {n}: {v}" for n, v in headers]
        if isinstance(frame, DataFrame) and frame.data:
            return [title, *self._grpc_messages(bytes(frame.data), frame.stream_id)]
        return [title]

    def _grpc_messages(self, data: bytes, stream: int) -> list[str]:
        lines: list[str] = []
        while len(data) >= GRPC_PREFIX:
            flag, size = data[0], int.from_bytes(data[1:GRPC_PREFIX], "big")
            message, data = data[GRPC_PREFIX : GRPC_PREFIX + size], data[GRPC_PREFIX + size :]
            lines.append(
                f"  gRPC prefix {flag:02x} | {size.to_bytes(4, 'big').hex(' ')}"
                f"  (compressed: {'yes' if flag else 'no'}, length: {size} bytes)"
            )
            lines.append(hex_dump(message, indent="  "))
            cls = _message_class(self.paths.get(stream, ""), request=self.client)
            if cls is not None:
                decoded = cls.FromString(message)
                lines.append(f"  decoded {cls.__name__}:")
                text = text_format.MessageToString(decoded, as_utf8=True).rstrip()
                lines.extend("    " + line for line in text.splitlines())
        return lines
