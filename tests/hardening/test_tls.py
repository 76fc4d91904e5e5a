"""TLS on every protocol, with a certificate the test makes; clients verify it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clients import connect
from clients.base import ClientError
from clients.rest_client import RestClient
from protobench.core.errors import ErrorCode
from protobench.protocols import Protocol
from tests.hardening.conftest import API_KEY, TlsFiles
from tests.support.protocols import protocol_params
from tests.support.servers import running_server


@pytest.mark.parametrize("protocol", protocol_params())
def test_tls_with_a_key(
    protocol: Protocol, models_dir: Path, tls_files: TlsFiles, tmp_path: Path
) -> None:
    tls_args = ("--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.key))
    env = {"PROTOBENCH_API_KEY": API_KEY}
    with running_server(
        protocol, tmp_path, models_dir, *tls_args, env=env, tls_ca=tls_files.cert
    ) as server:
        with connect(protocol, server.target, api_key=API_KEY, tls_ca=tls_files.cert) as client:
            assert client.predict("iris", [[5.1, 3.5, 1.4, 0.2]]).predictions[0].label == "setosa"
        with connect(protocol, server.target, tls_ca=tls_files.cert) as keyless:
            with pytest.raises(ClientError) as refused:
                keyless.list_models()
            assert refused.value.code is ErrorCode.UNAUTHENTICATED
        # Plain text to a TLS port gets no answer at all: the handshake never happens.
        with connect(protocol, server.target, timeout=3.0) as plain:
            with pytest.raises(ClientError) as failed:
                plain.health()
            assert failed.value.code in (ErrorCode.NOT_READY, ErrorCode.DEADLINE_EXCEEDED)
        assert server.process.poll() is None, server.log()


@pytest.mark.rest
def test_a_client_refuses_a_certificate_it_does_not_trust(
    models_dir: Path, tls_files: TlsFiles, tmp_path: Path
) -> None:
    tls_args = ("--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.key))
    with running_server("rest", tmp_path, models_dir, *tls_args, tls_ca=tls_files.cert) as server:
        # Without tls_ca the system store is used, and it does not know this certificate.
        with (
            RestClient(f"https://{server.target}", timeout=3.0) as untrusting,
            pytest.raises(ClientError) as failed,
        ):
            untrusting.health()
        assert failed.value.code is ErrorCode.NOT_READY
        assert "CERTIFICATE_VERIFY_FAILED" in failed.value.message


def test_tls_needs_both_files(models_dir: Path, tls_files: TlsFiles) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "protobench.cli", "serve", "--protocol", "rest", "--port", "0",
         "--models-dir", str(models_dir), "--tls-cert", str(tls_files.cert)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "TLS needs both a certificate and a key file" in result.stderr
    assert "Traceback" not in result.stderr


def test_replicas_leave_tls_to_the_balancer(tls_files: TlsFiles) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "protobench.cli", "serve", "--protocol", "rest", "--replicas", "2",
         "--tls-cert", str(tls_files.cert), "--tls-key", str(tls_files.key)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--tls-cert/--tls-key apply to a single server" in result.stderr
