"""The idle keep-alive (``http_keep_alive_s``) on every protocol that travels on HTTP/1.1: a
connection left idle after an answer stays open as long as the setting says, past the default,
and is then closed by the server; a value that is not a whole number of seconds of at least 1
is refused before anything starts, naming the setting and the value."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from clients.http1_answer import read_answer
from protobench.cli import main
from protobench.core.settings import Settings
from protobench.protocols import Protocol, Transport, with_transport
from tests.hardening.wire import http_predict
from tests.support.protocols import protocol_params
from tests.support.servers import running_server

KEEP_ALIVE_S = 10
DEFAULT_KEEP_ALIVE_S: int = Settings.model_fields["http_keep_alive_s"].default
GENEROUS_S = 60.0


@pytest.mark.parametrize(
    "protocol", protocol_params(lambda p: p in with_transport(Transport.HTTP1))
)
def test_an_idle_connection_is_closed_after_the_keep_alive(
    protocol: Protocol, models_dir: Path, tmp_path: Path
) -> None:
    """Still open a second past the default keep-alive, so the setting decides and not a
    default; then closed by the server (``recv`` returns b""). The first wait ends 4 s before
    the server may close, so an answer read late on a loaded machine does not end it early."""
    env = {"PROTOBENCH_HTTP_KEEP_ALIVE_S": str(KEEP_ALIVE_S)}
    with (
        running_server(protocol, tmp_path, models_dir, env=env) as server,
        socket.create_connection((server.host, server.port), timeout=GENEROUS_S) as sock,
    ):
        sock.sendall(http_predict(protocol))
        answer = read_answer(sock, bytearray(), "POST")
        assert (answer.status, answer.keep_alive) == (200, True), answer
        sock.settimeout(DEFAULT_KEEP_ALIVE_S + 1)
        with pytest.raises(TimeoutError):
            sock.recv(1)  # nothing comes, and the connection stays open
        sock.settimeout(GENEROUS_S)
        assert sock.recv(1) == b""


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--protocol", "rest", "--port", "0"],
        ["serve", "--protocol", "rest", "--replicas", "2", "--port", "0"],
        ["bench", "--protocols", "rest"],
    ],
    ids=["serve", "replicas", "bench"],
)
def test_a_keep_alive_that_is_no_whole_number_of_seconds_is_refused(
    value: str,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PROTOBENCH_HTTP_KEEP_ALIVE_S", value)
    assert main(command) == 2
    error = capsys.readouterr().err
    assert f"http_keep_alive_s (PROTOBENCH_HTTP_KEEP_ALIVE_S) is {value!r}: Input should" in error
