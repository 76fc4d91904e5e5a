"""``reuseport``: every replica binds the public port with SO_REUSEPORT; the kernel spreads.

Nothing to install and nothing in the path of a request. The kernel hashes each *connection*
onto one listening socket, so a client that keeps one keep-alive or HTTP/2 connection talks to
one replica for its whole life: an L4 balancer, and the lesson this default exists to show.
"""

from __future__ import annotations

from servers.balancers.base import Balancer


class ReusePort(Balancer):
    name = "reuseport"
    layer = "L4 (connections)"
    summary = "the kernel spreads connections over replicas sharing one port (SO_REUSEPORT)"
    shares_port = True
