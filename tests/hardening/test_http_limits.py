"""Slow and oversized HTTP clients (issue 21.4) on REST, GraphQL and JSON-RPC, with raw
sockets: a header over the limit is 431 before the server buffers more, headers or a body
that come too slowly are 408, connections over the cap are 503 at once, and the server
answers normal requests throughout or right after."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from protobench.protocols import Transport, with_transport
from tests.hardening.conftest import server_for
from tests.hardening.wire import http_predict
from tests.support.protocols import protocol_params
from tests.support.servers import RunningServer

# read deadlines of 1.5 s: a machine busy with other tests would blur them
pytestmark = pytest.mark.serial

HEADER_TIMEOUT_S = 1.5
BODY_TIMEOUT_S = 1.5
MAX_CONNECTIONS = 12
LIMITS = {
    "PROTOBENCH_HTTP_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
    "PROTOBENCH_HTTP_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
    "PROTOBENCH_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
}


@pytest.fixture(
    scope="module",
    params=protocol_params(lambda p: p in with_transport(Transport.HTTP1)),
)
def server(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with server_for(request, models_dir, tmp_path_factory, LIMITS) as running:
        yield running


def _connect(server: RunningServer) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=10)


def _status_line(sock: socket.socket) -> str:
    """The first line of the answer, or how the connection ended without one."""
    try:
        data = sock.recv(4096)
    except OSError as exc:
        return type(exc).__name__
    return data.split(b"\r\n", 1)[0].decode() if data else "closed"


def _serves(server: RunningServer) -> str:
    with _connect(server) as sock:
        sock.sendall(http_predict(server.protocol))
        return _status_line(sock)


def test_a_huge_header_is_431_before_it_is_buffered(server: RunningServer) -> None:
    """issue 21: 64 MiB headers were buffered in full; here 8 MiB on 3 connections at once."""
    answers: list[str] = []

    def send_big_header() -> None:
        with _connect(server) as sock:
            sock.sendall(b"GET /health/live HTTP/1.1\r\nhost: t\r\nx-big: ")
            try:
                for _ in range(128):
                    sock.sendall(b"a" * 65536)
            except OSError:
                pass  # the server closed the connection: expected
            answers.append(_status_line(sock))

    threads = [threading.Thread(target=send_big_header) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["HTTP/1.1 431 Request Header Fields Too Large"] * 3
    assert _serves(server) == "HTTP/1.1 200 OK"


def test_headers_just_under_the_limit_are_served(server: RunningServer) -> None:
    with _connect(server) as sock:
        filler = b"x-fill: " + b"a" * (30 * 1024) + b"\r\n"
        sock.sendall(http_predict(server.protocol, filler))
        assert _status_line(sock) == "HTTP/1.1 200 OK"


def test_slowloris_connections_are_closed_with_408(server: RunningServer) -> None:
    socks = [_connect(server) for _ in range(8)]
    started = time.monotonic()
    for sock in socks:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nhost: t\r\n")
    for _ in range(3):  # a header line every half second: never done
        time.sleep(0.5)
        for sock in socks:
            sock.sendall(b"x-a: b\r\n")
    answers = {_status_line(sock) for sock in socks}
    waited = time.monotonic() - started
    for sock in socks:
        sock.close()
    assert answers == {"HTTP/1.1 408 Request Timeout"}
    assert waited < HEADER_TIMEOUT_S + 5
    assert _serves(server) == "HTTP/1.1 200 OK"


def test_a_body_that_never_ends_is_408(server: RunningServer) -> None:
    with _connect(server) as sock:
        sock.sendall(http_predict(server.protocol)[:-5])  # the declared length never arrives
        assert _status_line(sock) == "HTTP/1.1 408 Request Timeout"


def test_connections_over_the_cap_are_503_then_served_again(server: RunningServer) -> None:
    """issue 21: 300 slow connections from one client made every normal request fail."""
    idle = [_connect(server) for _ in range(MAX_CONNECTIONS + 4)]
    time.sleep(0.3)
    assert _serves(server) == "HTTP/1.1 503 Service Unavailable"
    answers = sorted({_status_line(sock) for sock in idle})
    for sock in idle:
        sock.close()
    assert answers == ["HTTP/1.1 408 Request Timeout", "HTTP/1.1 503 Service Unavailable"]
    assert _serves(server) == "HTTP/1.1 200 OK"
    assert "Traceback" not in server.log()


def test_pipelined_requests_then_a_hang_up_log_nothing(server: RunningServer) -> None:
    """issue 21.6: JSON-RPC logged "Exception in ASGI application ... handler is closed" when a
    client pipelined requests and hung up (16 of 20 tries)."""
    for _ in range(10):
        with _connect(server) as sock:
            sock.sendall(http_predict(server.protocol) * 8)
        time.sleep(0.05)
    time.sleep(1.0)
    assert _serves(server) == "HTTP/1.1 200 OK"
    assert "Exception in ASGI application" not in server.log(), server.log()
