"""Servers started with the hardening options (API key, TLS, small limits), one per protocol.

A broker transport is hardened through a broker of its own that speaks the protocol's newest
version, so every request carries its reply address outside the payload and even garbage can
be answered (MQTT 5's Response Topic: mosquitto, since the embedded amqtt broker speaks 3.1.1
only, where the reply address is inside the JSON and an unparseable payload cannot be answered;
tests/servers/mqtt covers that drop).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from protobench.protocol_spec import Transport
from protobench.protocols import Protocol, spec
from tests.support.mosquitto import running_mosquitto
from tests.support.servers import RunningServer, running_server

API_KEY = "hardening-test-key-0123456789"


@dataclass(frozen=True)
class TlsFiles:
    cert: Path  # self-signed, so it is its own CA
    key: Path


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A fresh self-signed certificate for 127.0.0.1 and localhost."""
    folder = tmp_path_factory.mktemp("tls")
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(files.key), "-out", str(files.cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return files


@contextmanager
def server_for(
    request: pytest.FixtureRequest,
    models_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    env: dict[str, str] | None = None,
) -> Iterator[RunningServer]:
    """The server of the protocol a ``protocol_params()`` fixture is running for."""
    protocol: Protocol = request.param
    workdir = tmp_path_factory.mktemp(f"{request.module.__name__.rpartition('.')[2]}-{protocol}")
    with ExitStack() as stack:
        if spec(protocol).transport is Transport.BROKER:
            broker = stack.enter_context(running_mosquitto(workdir / "broker"))
            env = {**(env or {}), "PROTOBENCH_MQTT_BROKER": f"mqtt://{broker}"}
        yield stack.enter_context(running_server(protocol, workdir, models_dir, env=env))
