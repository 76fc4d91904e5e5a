"""Servers started with the hardening options (API key, TLS, small limits), one per protocol."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from protobench.protocols import Protocol
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
    with running_server(protocol, workdir, models_dir, env=env) as server:
        yield server
