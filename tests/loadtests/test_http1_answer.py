"""The HTTP/1.1 answer reader under the Locust users' HTTP transport (clients/http1_answer.py),
fed canned answers through a socket pair: every way HTTP/1.1 may end a body."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from clients.http1_answer import Http1Answer, HttpParseError, read_answer

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.settimeout(10.0)
    with ours, theirs:
        yield ours, theirs


def _read(pair: tuple[socket.socket, socket.socket], answer: bytes, *, close: bool = False,
          method: str = "POST") -> tuple[Http1Answer, bytearray]:  # fmt: skip
    ours, theirs = pair
    theirs.sendall(answer)
    if close:
        theirs.shutdown(socket.SHUT_WR)
    buffer = bytearray()
    return read_answer(ours, buffer, method), buffer


def test_a_body_by_content_length_leaves_what_follows(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    answer, left = _read(pair, HEAD + b"Content-Length: 4\r\nX-A: 1\r\nx-a: 2\r\n\r\n{}{}next")
    assert answer == Http1Answer(200, "OK", b"{}{}", answer.headers, True)
    assert answer.headers == {"content-type": "application/json", "content-length": "4",
                              "x-a": "1"}  # fmt: skip
    assert left == b"next"


def test_a_chunked_body_with_trailers(pair: tuple[socket.socket, socket.socket]) -> None:
    chunked = b"Transfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"
    answer, left = _read(pair, HEAD + chunked)
    assert (answer.content, answer.keep_alive, bytes(left)) == (b"abcde", True, b"")


def test_a_body_until_the_server_closes(pair: tuple[socket.socket, socket.socket]) -> None:
    answer, _ = _read(pair, HEAD + b"\r\n" + b"x" * 100_000, close=True)
    assert (answer.content, answer.keep_alive) == (b"x" * 100_000, False)


def test_interim_answers_are_skipped_and_close_is_heard(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    final = b"HTTP/1.1 422 Unprocessable Entity\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
    answer, _ = _read(pair, interim + final)
    assert (answer.status, answer.reason, answer.content) == (422, "Unprocessable Entity", b"{}")
    assert not answer.keep_alive


@pytest.mark.parametrize(
    ("method", "answer", "keep_alive"),
    [
        ("POST", b"HTTP/1.1 204 No Content\r\n\r\n", True),
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", True),
        ("GET", b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
        ("GET", b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", True),
    ],
)
def test_answers_without_a_body(
    pair: tuple[socket.socket, socket.socket], method: str, answer: bytes, keep_alive: bool
) -> None:
    read, _ = _read(pair, answer, method=method)
    assert (read.content, read.keep_alive) == (b"", keep_alive)


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        HEAD + b"Content-Length: 10\r\n\r\nshort",
        HEAD + b"Content-Length: ten\r\n\r\n",
        HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\n",
    ],
)
def test_a_broken_answer_is_a_parse_error(
    pair: tuple[socket.socket, socket.socket], answer: bytes
) -> None:
    with pytest.raises(HttpParseError):
        _read(pair, answer, close=True)
