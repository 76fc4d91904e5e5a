"""Tests parametrised over the protocol registry, with one pytest marker per protocol.

``pytest -m grpc`` (``-m oip_rest`` for a dashed name) runs only that protocol's cases; the
markers are registered from the registry in ``tests/conftest.py``, so a new spec brings its own.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from protobench.protocols import PROTOCOLS, Protocol, spec


def marker(protocol: Protocol) -> pytest.MarkDecorator:
    return getattr(pytest.mark, spec(protocol).marker)


def protocol_params(keep: Callable[[Protocol], bool] = lambda _: True) -> list[object]:
    """One ``pytest.param`` per registered protocol that ``keep`` accepts, marked and named."""
    return [pytest.param(p, marks=marker(p), id=p) for p in PROTOCOLS if keep(p)]


def skip_unless_offered(protocol: Protocol, operation: str) -> None:
    """Skip before an expensive set-up when the protocol has no place for ``operation``."""
    if not spec(protocol).offers(operation):
        pytest.skip(f"{protocol} does not offer {operation}")


def register_markers(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "serial: judges speed or timing, so `make test` runs it alone, after the parallel tests",
    )
    for protocol in PROTOCOLS:
        config.addinivalue_line(
            "markers", f"{spec(protocol).marker}: tests that run against the {protocol} adapter"
        )
