"""One thin adapter per protocol over protobench's core service, and how to start them.

Each protocol's spec (``*_spec.py`` here, see ``protobench.protocols``) names its adapter's
``serve(service, listen)``, which blocks until SIGINT/SIGTERM and then shuts down gracefully.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from protobench.protocol_spec import load

if TYPE_CHECKING:
    from protobench.core.service import InferenceService
    from servers.listen import Listen

ServeFunction = Callable[["InferenceService", "Listen"], None]


def load_serve(protocol: str) -> ServeFunction:
    """The protocol's ``serve``, imported on first use (grpcio must not load before a fork)."""
    from protobench.protocols import spec  # it reads the specs in this package

    return cast(ServeFunction, load(spec(protocol).server))
