"""The one httpx connection the three HTTP clients (REST, GraphQL, JSON-RPC) each hold.

Every call has a deadline (``timeout`` covers connect, each read and each write). A failed
*connection* is retried once, whatever the operation: the request never reached the server,
so it cannot have run. A request that was sent is never retried here — POST is not idempotent
by HTTP's rules, and GraphQL and JSON-RPC carry every operation over POST.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import ClassVar

import httpx

from clients.base import InferenceClient, http_base_url

CONNECT_RETRIES = 1


def base_url(target: str, *, tls: bool) -> str:
    """``host:port`` -> ``http(s)://host:port``; a full URL is kept."""
    if tls and "://" not in target:
        target = f"https://{target}"
    return http_base_url(target)


def open_http(
    target: str,
    *,
    timeout: float,
    api_key: str | None = None,
    tls_ca: str | Path | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """One pooled connection; ``tls_ca`` is the PEM file that certifies the server (its
    certificate, or the CA that signed it) and switches a bare ``host:port`` to HTTPS."""
    all_headers = dict(headers or {})
    if api_key:
        all_headers["authorization"] = f"Bearer {api_key}"
    verify: ssl.SSLContext | bool = True
    if tls_ca is not None:
        verify = ssl.create_default_context(cafile=str(tls_ca))
    return httpx.Client(
        base_url=base_url(target, tls=tls_ca is not None),
        timeout=timeout,
        headers=all_headers,
        transport=httpx.HTTPTransport(
            verify=verify,
            retries=CONNECT_RETRIES,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        ),
    )


class HttpInferenceClient(InferenceClient):
    """What the REST, GraphQL and JSON-RPC clients share: the connection and its options."""

    headers: ClassVar[dict[str, str]] = {}  # sent with every request

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 10.0,
        api_key: str | None = None,
        tls_ca: str | Path | None = None,
    ) -> None:
        """``api_key`` goes out as ``Authorization: Bearer``; ``tls_ca``, the PEM file that
        certifies the server, turns TLS on."""
        super().__init__(target, timeout=timeout)
        self._http = open_http(
            target, timeout=timeout, api_key=api_key, tls_ca=tls_ca, headers=self.headers
        )

    def close(self) -> None:
        self._http.close()
