"""``protobench serve --replicas``, as a user runs it: one command starts replicas and a
balancer, Ctrl-C or SIGTERM stops all of them, and a missing engine is a clear error."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from clients import connect
from protobench.cli import main
from servers.balancers.nginx import Nginx
from servers.launcher import LaunchError, free_port, launch
from tests.scaling.conftest import still_running

START_TIMEOUT_S = 90.0


@pytest.mark.rest
def test_serve_replicas_behind_nginx_and_ctrl_c_stops_everything(
    models_dir: Path, tmp_path: Path
) -> None:
    """Ctrl-C, as a terminal sends it to the command (SIGTERM takes the same handler)."""
    port_file = tmp_path / "port"
    log_path = tmp_path / "serve.log"
    port = free_port("127.0.0.1")  # a public port given, as a user does
    command = [
        sys.executable, "-m", "protobench.cli", "serve", "--protocol", "rest",
        "--replicas", "2", "--balancer", "nginx", "--port", str(port),
        "--port-file", str(port_file), "--models-dir", str(models_dir),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not port_file.exists():
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        assert int(port_file.read_text()) == port
        target = f"127.0.0.1:{port}"
        served = set()
        for _ in range(4):
            with connect("rest", target) as client:
                served.add(client.predict("iris", [[5.1, 3.5, 1.4, 0.2]]).served_by)
        assert served == {"replica-0", "replica-1"}
        tree = psutil.Process(process.pid).children(recursive=True)
        assert len(tree) >= 4  # two replicas, nginx's master and its worker
        listeners = {c.laddr.port: p.name() for p in tree for c in p.net_connections("tcp")
                     if c.status == psutil.CONN_LISTEN}  # fmt: skip
        assert listeners[port] == "nginx"

        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not still_running(tree), still_running(tree)
    output = log_path.read_text()
    assert "rest · 2 replicas · nginx" in output
    assert "predictions served per replica: replica-0 2 (50%), replica-1 2 (50%)" in output


def test_missing_balancer_is_an_error_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(Nginx, "program", "protobench-no-such-nginx")
    code = main(["serve", "--protocol", "rest", "--replicas", "2", "--balancer", "nginx"])
    assert code != 0
    assert "sudo apt-get install nginx" in capsys.readouterr().err


def test_single_server_options_are_refused_with_replicas(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--replicas", "2", "--reuse-port"]) == 2
    assert "--reuse-port" in capsys.readouterr().err


def test_busy_public_port_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        for balancer in ("reuseport", "nginx"):
            with (
                pytest.raises(LaunchError, match=f"cannot use 127.0.0.1:{busy}"),
                launch("rest", balancer=balancer, port=busy, workdir=tmp_path),
            ):
                pass
            assert not list(tmp_path.glob("*.log"))  # no replica was started
