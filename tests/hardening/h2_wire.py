"""One gRPC call written frame by frame with the ``h2`` library, so that a test can send what
no gRPC client would: a compressed flag without an encoding, a bad ``grpc-timeout``, a length
prefix that promises more than follows.

The answer is read until the server ends the stream (or resets it, or closes the connection):
the ``grpc-status`` and ``grpc-message`` from the trailers, or from the headers of a
trailers-only answer.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from urllib.parse import unquote

import h2.config
import h2.connection
import h2.events

TIMEOUT_S = 10.0


@dataclass
class RawAnswer:
    http_status: int | None = None
    grpc_status: int | None = None
    grpc_message: str = ""
    reset: int | None = None  # the RST_STREAM error code, when the stream was reset
    headers: dict[str, str] = field(default_factory=dict)


def frame(message: bytes, compressed: bool = False, length: int | None = None) -> bytes:
    """The gRPC length-prefixed message: the compressed flag, the length, the bytes."""
    declared = len(message) if length is None else length
    return struct.pack(">BI", int(compressed), declared) + message


def call(
    host: str,
    port: int,
    path: str,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> RawAnswer:
    """Send one POST with gRPC's request headers (``headers`` added or replacing them) and
    ``body`` as its DATA, then read the answer."""
    request = {
        ":method": "POST", ":scheme": "http", ":path": path, ":authority": f"{host}:{port}",
        "content-type": "application/grpc", "te": "trailers",
    }  # fmt: skip
    request.update(headers or {})
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    with socket.create_connection((host, port), timeout=TIMEOUT_S) as sock:
        connection.initiate_connection()
        connection.send_headers(1, list(request.items()))
        size = connection.max_outbound_frame_size
        chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
        if len(body) > connection.local_flow_control_window(1):
            raise ValueError("keep raw bodies within the first flow-control window (64 KiB)")
        for i, chunk in enumerate(chunks):
            connection.send_data(1, chunk, end_stream=i == len(chunks) - 1)
        sock.sendall(connection.data_to_send())
        return _read(sock, connection)


def _read(sock: socket.socket, connection: h2.connection.H2Connection) -> RawAnswer:
    answer = RawAnswer()
    while True:
        data = sock.recv(65536)
        if not data:
            return answer
        for event in connection.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
                _take_headers(answer, event.headers)
            elif isinstance(event, h2.events.DataReceived):
                connection.acknowledge_received_data(event.flow_controlled_length, 1)
            elif isinstance(event, h2.events.StreamReset):
                answer.reset = int(event.error_code)
                return answer
            elif isinstance(event, h2.events.ConnectionTerminated):
                return answer
            if isinstance(event, h2.events.StreamEnded):
                return answer
        sock.sendall(connection.data_to_send())


def _take_headers(answer: RawAnswer, headers: object) -> None:
    for name, value in headers:  # type: ignore[attr-defined]
        key = name.decode() if isinstance(name, bytes) else name
        text = value.decode() if isinstance(value, bytes) else value
        answer.headers[key] = text
        if key == ":status":
            answer.http_status = int(text)
        elif key == "grpc-status":
            answer.grpc_status = int(text)
        elif key == "grpc-message":
            answer.grpc_message = unquote(text)
