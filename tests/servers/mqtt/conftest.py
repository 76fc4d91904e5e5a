"""A real mosquitto (the MQTT 5 broker; scripts/install-system-deps.sh installs it), started
on a free loopback port for the module and stopped after."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import stop


def _mosquitto() -> str:
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        pytest.fail("mosquitto is missing: run scripts/install-system-deps.sh")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a running mosquitto; TCP_NODELAY on, as docs/mqtt.md advises."""
    folder = tmp_path_factory.mktemp("mosquitto")
    port = _free_port()
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "set_tcp_nodelay true\n"
    )
    log = (folder / "mosquitto.log").open("wb")
    process = subprocess.Popen([_mosquitto(), "-c", str(config)], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"mosquitto did not start: {(folder / 'mosquitto.log').read_text()}"
                ) from None
            time.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()
