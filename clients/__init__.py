"""Synchronous clients, one per protocol, behind the interface in ``clients.base``."""

from __future__ import annotations

from pathlib import Path

from clients.base import ClientError, InferenceClient
from protobench.protocol_spec import load
from protobench.protocols import Protocol, spec


def client_class(protocol: Protocol) -> type[InferenceClient]:
    """The client class for a protocol, imported on first use (gRPC must not load early)."""
    cls = load(spec(protocol).client)
    assert isinstance(cls, type) and issubclass(cls, InferenceClient), cls
    return cls


def connect(
    protocol: Protocol,
    target: str,
    *,
    timeout: float = 10.0,
    api_key: str | None = None,
    tls_ca: str | Path | None = None,
) -> InferenceClient:
    """A client for ``target``; ``api_key`` is sent as ``Authorization: Bearer`` (gRPC:
    metadata) and ``tls_ca``, the PEM file that certifies the server, turns TLS on."""
    security: dict[str, object] = {}
    if api_key:
        security["api_key"] = api_key
    if tls_ca is not None:
        security["tls_ca"] = tls_ca
    return client_class(protocol)(target, timeout=timeout, **security)


__all__ = ["ClientError", "InferenceClient", "client_class", "connect"]
