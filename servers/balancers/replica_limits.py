"""The limits a proxy balancer copies from its replicas, so that it refuses what they would
refuse, before buffering it (nginx spooled a 100 MB body to a temp file before a replica said
413), and waits no longer than they would.

The replicas read the same ``PROTOBENCH_*`` environment the launcher runs in (it hands its
environment down), so ``Settings()`` here sees their limits.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from protobench.core.errors import ErrorCode
from protobench.core.settings import Settings
from protobench.protocols import Protocol


@dataclass(frozen=True)
class ReplicaLimits:
    body_bytes: int
    header_bytes: int
    header_timeout_s: float
    body_timeout_s: float
    keep_alive_s: int

    @property
    def too_large_body(self) -> str:
        """The balancer's 413 body, in the REST error shape (clients map 413 to TOO_LARGE);
        free of single quotes, which quote it in both configs."""
        message = (
            f"the request body is over {self.body_bytes} bytes, the limit of the replicas "
            "(refused by the balancer)"
        )
        error = {"code": ErrorCode.TOO_LARGE.value, "message": message}
        return orjson.dumps(error).decode()


def replica_limits(protocol: Protocol, settings: Settings | None = None) -> ReplicaLimits:
    settings = settings or Settings()
    body = settings.max_body_bytes
    if protocol == "graphql":  # imported here: it loads the graphql library, which others skip
        from servers.graphql_limits import max_body_bytes

        body = max_body_bytes(settings)
    return ReplicaLimits(
        body_bytes=body,
        header_bytes=settings.http_max_header_bytes,
        header_timeout_s=settings.http_header_timeout_s,
        body_timeout_s=settings.http_body_timeout_s,
        keep_alive_s=settings.http_keep_alive_s,
    )
