"""GraphQLClient against servers that misbehave at the transport level."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest

from clients.base import ClientError
from clients.graphql_client import GraphQLClient
from protobench.core.errors import ErrorCode


def test_a_server_that_never_answers_is_a_deadline() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # the kernel accepts the connection; nobody ever reads or answers
        target = f"127.0.0.1:{listener.getsockname()[1]}"
        with GraphQLClient(target, timeout=0.3) as client, pytest.raises(ClientError) as exc:
            client.health()
    assert exc.value.code == ErrorCode.DEADLINE_EXCEEDED


class _Unavailable(http.server.BaseHTTPRequestHandler):
    """A proxy in front of a dead backend: 503, plain text, no GraphQL body."""

    def do_POST(self) -> None:
        self.send_response(503)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", "11")
        self.end_headers()
        self.wfile.write(b"unavailable")

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_answer_without_a_graphql_body_maps_its_http_status() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        target = f"127.0.0.1:{server.server_port}"
        with GraphQLClient(target) as client, pytest.raises(ClientError) as exc:
            client.list_models()
        assert exc.value.code == ErrorCode.NOT_READY
        assert exc.value.protocol_status == 503
    finally:
        server.shutdown()
        server.server_close()
