"""``client`` (gRPC only): no proxy; the gRPC channel itself spreads calls with ``round_robin``.

The target is the replica list in gRPC's name syntax (``ipv4:127.0.0.1:p1,127.0.0.1:p2``);
``clients.grpc_client.GrpcClient`` opens a ``round_robin`` channel for such a target, which
keeps one HTTP/2 connection per replica and sends each call to the next ready one.
"""

from __future__ import annotations

from collections.abc import Sequence

from servers.balancers.base import Backend, Balancer


class ClientRoundRobin(Balancer):
    name = "client"
    layer = "L7 (requests, in the client)"
    summary = "the gRPC client's round_robin policy over the replica list; no proxy"
    listens = False

    def target(self, host: str, port: int, backends: Sequence[Backend]) -> str:
        family = "ipv6" if ":" in host else "ipv4"
        return f"{family}:" + ",".join(backend.address for backend in backends)
