"""Starting real protobench servers as subprocesses on free loopback ports, for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from clients import connect
from clients.base import ClientError
from protobench.protocols import Protocol

START_TIMEOUT_S = 120.0  # servers start slowly on a loaded 2-core machine


@dataclass
class RunningServer:
    protocol: Protocol
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_ready(server: RunningServer, deadline: float, tls_ca: Path | None) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.protocol} server exited early:\n{server.log()}")
        try:
            with connect(server.protocol, server.target, timeout=2.0, tls_ca=tls_ca) as client:
                if client.health().ready:
                    return
        except ClientError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{server.protocol} server not ready in time:\n{server.log()}")


@contextmanager
def running_server(
    protocol: Protocol,
    workdir: Path,
    models_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
    tls_ca: Path | None = None,
) -> Iterator[RunningServer]:
    """Start ``protobench serve`` on port 0, wait until it is ready, stop it with SIGTERM.
    ``tls_ca`` certifies a server started with --tls-cert, for the readiness check."""
    workdir.mkdir(parents=True, exist_ok=True)
    port_file = workdir / f"{protocol}.port"
    port_file.unlink(missing_ok=True)
    log_path = workdir / f"{protocol}.log"
    command = [
        sys.executable, "-m", "protobench.cli", "serve",
        "--protocol", protocol, "--host", "127.0.0.1", "--port", "0",
        "--port-file", str(port_file), "--models-dir", str(models_dir), *args,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while not port_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{protocol} server did not start:\n{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.02)
        server = RunningServer(protocol, "127.0.0.1", int(port_file.read_text()), process, log_path)
        _wait_ready(server, deadline, tls_ca)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], grace_s: float = 15.0) -> int:
    """SIGTERM, wait for the graceful exit, SIGKILL only if it does not come."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
