"""Binding, SO_REUSEPORT as an explicit choice, IPv6, and graceful shutdown on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from clients.grpc_client import GrpcClient
from protobench.core.service import InferenceService
from protobench.core.types import PredictResponse
from tests.servers.grpc.conftest import serving
from tests.support.servers import running_server, stop

pytestmark = pytest.mark.grpc

SETOSA = [5.1, 3.5, 1.4, 0.2]


def _serve_command(models_dir: Path, port: int, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "protobench.cli", "serve", "--protocol", "grpc",
        "--host", "127.0.0.1", "--port", str(port), "--models-dir", str(models_dir), *args,
    ]  # fmt: skip


def test_a_second_server_on_a_busy_port_fails_clearly(models_dir: Path, tmp_path: Path) -> None:
    with running_server("grpc", tmp_path, models_dir) as first:
        result = subprocess.run(
            _serve_command(models_dir, first.port), capture_output=True, text=True, timeout=60
        )
        assert result.returncode != 0
        assert f"cannot listen on 127.0.0.1:{first.port}" in result.stderr
        assert "--reuse-port" in result.stderr
        assert "Traceback" not in result.stderr
        assert first.process.poll() is None


def test_reuse_port_lets_two_servers_share_the_port_on_purpose(
    models_dir: Path, tmp_path: Path
) -> None:
    with running_server("grpc", tmp_path / "a", models_dir, "--reuse-port") as first:
        port_file = tmp_path / "second.port"
        second = subprocess.Popen(
            _serve_command(models_dir, first.port, "--reuse-port", "--port-file", str(port_file)),
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(600):
                if port_file.exists() or second.poll() is not None:
                    break
                time.sleep(0.05)
            assert port_file.read_text() == str(first.port)
        finally:
            assert stop(second) == 0


def test_sigterm_lets_the_call_in_flight_finish_and_exits_0(
    models_dir: Path, tmp_path: Path
) -> None:
    with running_server("grpc", tmp_path, models_dir, "--model-delay-ms", "800") as server:
        answers: list[PredictResponse] = []
        with GrpcClient(server.target) as client:
            client.health()
            call = threading.Thread(target=lambda: answers.append(client.predict("iris", [SETOSA])))
            call.start()
            time.sleep(0.3)  # the call is in the server's model delay now
            server.process.send_signal(signal.SIGTERM)
            call.join(10)
        assert [a.predictions[0].label for a in answers] == ["setosa"]
        assert server.process.wait(15) == 0


def test_serves_on_ipv6_loopback(service: InferenceService) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with serving(service, "::1") as target, GrpcClient(target) as client:
        assert target.startswith("[::1]:")
        assert client.predict("iris", [SETOSA]).predictions[0].label == "setosa"
