"""The balancers ``protobench serve --replicas N --balancer B`` can put in front of replicas.

One module per balancer; each only configures and starts an existing engine.
"""

from __future__ import annotations

from servers.balancers.base import Backend, Balancer, BalancerError
from servers.balancers.client import ClientRoundRobin
from servers.balancers.haproxy import HAProxy
from servers.balancers.nginx import Nginx
from servers.balancers.reuseport import ReusePort

BALANCERS: dict[str, Balancer] = {
    balancer.name: balancer for balancer in (ReusePort(), Nginx(), HAProxy(), ClientRoundRobin())
}


def get_balancer(name: str) -> Balancer:
    try:
        return BALANCERS[name]
    except KeyError:
        raise BalancerError(
            f"unknown balancer {name!r}; choose one of {', '.join(BALANCERS)}"
        ) from None


__all__ = ["BALANCERS", "Backend", "Balancer", "BalancerError", "get_balancer"]
