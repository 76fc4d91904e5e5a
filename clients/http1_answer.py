"""One HTTP/1.1 answer read from a socket: the parser under the Locust users' HTTP transport.

geventhttpclient's parser calls back into Python for every header name and value and builds a
header object for every answer: a fifth of an HTTP user's CPU per request (docs/loadtests.md).
Here the head is read in one piece and split once; the body follows by its Content-Length, by
its chunks, or until the server closes, as HTTP/1.1 allows, and interim (1xx) answers are
skipped.
"""

from __future__ import annotations

import socket
from typing import NamedTuple

MAX_HEAD = 65_536
RECEIVE = 65_536
NO_BODY = (204, 304)


class HttpParseError(Exception):
    """Not an HTTP/1.1 answer, or the connection closed in the middle of one."""


class Http1Answer(NamedTuple):
    status: int
    reason: str
    content: bytes
    headers: dict[str, str]  # lower-case names; the first of repeated ones
    keep_alive: bool  # the connection can carry the next request


def _fill(sock: socket.socket, buffer: bytearray) -> None:
    chunk = sock.recv(RECEIVE)
    if not chunk:
        raise HttpParseError("the server closed the connection before the end of its answer")
    buffer += chunk


def _take(sock: socket.socket, buffer: bytearray, size: int) -> bytes:
    while len(buffer) < size:
        _fill(sock, buffer)
    taken = bytes(buffer[:size])
    del buffer[:size]
    return taken


def _line(sock: socket.socket, buffer: bytearray) -> bytes:
    while (end := buffer.find(b"\r\n")) < 0:
        if len(buffer) > MAX_HEAD:
            raise HttpParseError("a line longer than any HTTP head")
        _fill(sock, buffer)
    return _take(sock, buffer, end + 2)[:-2]


def _head(sock: socket.socket, buffer: bytearray) -> tuple[int, str, bytes, dict[str, str]]:
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        if len(buffer) > MAX_HEAD:
            raise HttpParseError(f"no end of the head within {MAX_HEAD} bytes")
        _fill(sock, buffer)
    lines = _take(sock, buffer, end + 4)[:-4].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code, _, reason = rest.partition(b" ")
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise HttpParseError(f"not an HTTP/1.1 status line: {lines[0]!r:.100}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise HttpParseError(f"not a header: {line!r:.100}")
        headers.setdefault(name.strip().lower().decode("latin-1"), value.strip().decode("latin-1"))
    return int(code), reason.decode("latin-1"), version, headers


def _chunks(sock: socket.socket, buffer: bytearray) -> bytes:
    parts = []
    while size := int(_line(sock, buffer).partition(b";")[0], 16):
        parts.append(_take(sock, buffer, size + 2)[:-2])
    while _line(sock, buffer):  # trailers, up to the blank line
        pass
    return b"".join(parts)


def _until_closed(sock: socket.socket, buffer: bytearray) -> bytes:
    while chunk := sock.recv(RECEIVE):
        buffer += chunk
    content = bytes(buffer)
    buffer.clear()
    return content


def read_answer(sock: socket.socket, buffer: bytearray, method: str) -> Http1Answer:
    """The next answer on ``sock``; ``buffer`` holds what was received and not yet read, and
    keeps what follows the answer. Raises HttpParseError, or the socket's own errors."""
    status, reason, version, headers = _head(sock, buffer)
    while 100 <= status < 200:
        status, reason, version, headers = _head(sock, buffer)
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection and (
        version == b"HTTP/1.1" or "keep-alive" in connection
    )
    try:
        if method == "HEAD" or status in NO_BODY:
            content = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            content = _chunks(sock, buffer)
        elif "content-length" in headers:
            content = _take(sock, buffer, int(headers["content-length"]))
        else:
            content, keep_alive = _until_closed(sock, buffer), False
    except ValueError as exc:
        raise HttpParseError(f"a malformed body length: {exc}") from None
    return Http1Answer(status, reason, content, headers, keep_alive)
