"""Who is calling: the optional API key, checked in constant time, and the caller's standing.

Transports read the credential (``Authorization: Bearer <key>`` header or gRPC metadata) and
run the call inside ``caller(authenticated)``; the service refuses every operation except
health with UNAUTHENTICATED when a key is configured and the caller did not present it. A
context variable carries the standing, so the check lives in the core once, for every
protocol and every operation (health is the one exemption), and a transport that forgets to
mark its callers fails closed.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import SecretStr

from protobench.core.errors import CoreError, ErrorCode

SCHEME = "bearer"

_authenticated: ContextVar[bool] = ContextVar("protobench_authenticated", default=False)


def bearer_matches(header: str | bytes | None, api_key: SecretStr) -> bool:
    """Whether an ``Authorization`` value is ``Bearer <api_key>``; the comparison takes the
    same time wherever the presented key first differs."""
    if header is None:
        return False
    text = header.decode("latin-1") if isinstance(header, bytes) else header
    scheme, _, presented = text.strip().partition(" ")
    expected = api_key.get_secret_value().encode()
    return scheme.lower() == SCHEME and hmac.compare_digest(presented.strip().encode(), expected)


@contextmanager
def caller(authenticated: bool) -> Iterator[None]:
    """Run the enclosed call as an authenticated (or not) caller."""
    token = _authenticated.set(authenticated)
    try:
        yield
    finally:
        _authenticated.reset(token)


def require_authenticated(api_key: SecretStr | None) -> None:
    if api_key is not None and not _authenticated.get():
        raise CoreError(
            ErrorCode.UNAUTHENTICATED,
            "this server needs an API key: send 'Authorization: Bearer <key>'",
        )
