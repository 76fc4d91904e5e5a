"""A real mosquitto (an MQTT 5 broker; scripts/install-system-deps.sh installs it), started on a
free loopback port and stopped after: for the MQTT 5 tests and for hardening a broker transport,
where the reply address must travel outside the payload (see tests/hardening/conftest.py)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.servers import stop

START_TIMEOUT_S = 10.0


def _mosquitto() -> str:
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        raise RuntimeError("mosquitto is missing: run scripts/install-system-deps.sh")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_mosquitto(folder: Path) -> Iterator[str]:
    """``host:port`` of a running mosquitto; TCP_NODELAY on, as docs/mqtt.md advises."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "set_tcp_nodelay true\n"
    )
    log_path = folder / "mosquitto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([_mosquitto(), "-c", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mosquitto did not start: {log_path.read_text(errors='replace')}"
                    ) from None
                time.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)
