"""The call guard builds each method's guarded handler once per caller standing."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from pydantic import SecretStr

from servers.grpc_guard import CallGuard

pytestmark = pytest.mark.grpc


class Details:
    def __init__(self, method: str, key: str | None = None) -> None:
        self.method = method
        self.invocation_metadata = (("authorization", f"Bearer {key}"),) if key else ()


def _continuation(found: dict[str, Any]) -> Any:
    def continuation(details: Details) -> Any:
        return found.get(details.method)

    return continuation


def _handler() -> Any:
    return grpc.unary_unary_rpc_method_handler(lambda request, context: request)


def test_handlers_are_reused_per_method_and_standing() -> None:
    found = {"/a/A": _handler(), "/a/B": _handler()}
    guard = CallGuard(SecretStr("key"))
    good, bad = Details("/a/A", "key"), Details("/a/A", "nope")
    first = guard.intercept_service(_continuation(found), good)  # type: ignore[arg-type]
    assert first is not None and first.request_streaming
    assert guard.intercept_service(_continuation(found), good) is first  # type: ignore[arg-type]
    other = guard.intercept_service(_continuation(found), bad)  # type: ignore[arg-type]
    assert other is not None and other is not first
    b = guard.intercept_service(_continuation(found), Details("/a/B", "key"))  # type: ignore[arg-type]
    assert b is not None and b is not first


def test_unknown_methods_are_not_remembered() -> None:
    guard = CallGuard(None)
    for n in range(50):
        details = Details(f"/no/such{n}")
        assert guard.intercept_service(_continuation({}), details) is None  # type: ignore[arg-type]
    assert not guard._guarded
