"""How each balancer spreads calls over two replicas, and what killing a replica costs.

For every protocol × balancer that applies, two replicas are launched (servers/launcher.py)
and three client patterns send iris predictions; the replicas' own counters give the shares:

  one connection   1 client, 400 calls (one keep-alive or HTTP/2 connection)
  8 connections    8 threads, a client each, 100 calls each (how Locust users behave)
  fresh            200 calls, a new client (a new connection) for each

Then replica-0 is killed with SIGKILL under light load (2 threads, each keeping one client
and making a new one after a failure); failed calls are counted until 2 s after the supervisor
has it ready again.

    flock /tmp/protobench-bench.lock .venv/bin/python benchmarks/scaling_shares.py

Takes about two minutes. Numbers go to docs/scaling.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable

from clients import connect
from clients.base import ClientError, InferenceClient
from protobench.protocols import PROTOCOLS, Protocol
from servers.balancers import BALANCERS
from servers.launcher import Cluster, launch

SETOSA = [[5.1, 3.5, 1.4, 0.2]]
RESTART_TIMEOUT_S = 30.0


def _shares(cluster: Cluster, send: Callable[[Cluster], None]) -> str:
    before = cluster.request_counts()
    send(cluster)
    after = cluster.request_counts()
    served = [after[r.name] - before.get(r.name, 0) for r in cluster.replicas]
    total = sum(served) or 1
    return "/".join(f"{100 * n / total:.0f}" for n in served)


def _one_connection(cluster: Cluster) -> None:
    with connect(cluster.protocol, cluster.target) as client:
        for _ in range(400):
            client.predict("iris", SETOSA)


def _kept_connections(cluster: Cluster) -> None:
    def user() -> None:
        with connect(cluster.protocol, cluster.target) as client:
            for _ in range(100):
                client.predict("iris", SETOSA)

    threads = [threading.Thread(target=user) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _fresh_connections(cluster: Cluster) -> None:
    for _ in range(200):
        with connect(cluster.protocol, cluster.target) as client:
            client.predict("iris", SETOSA)


def _failover(cluster: Cluster) -> str:
    """Failed / total calls from the kill until 2 s after the restarted replica is ready,
    the restart time, and whether this load (kept connections) reached the new replica."""
    victim = cluster.replicas[0]
    old_pid = victim.pid
    stop = threading.Event()
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def user() -> None:
        client: InferenceClient | None = None
        while not stop.is_set():
            client = client or connect(cluster.protocol, cluster.target, timeout=5.0)
            try:
                served_by = client.predict("iris", SETOSA).served_by
                outcome = "rejoined" if victim.pid != old_pid and served_by == victim.name else "ok"
            except ClientError:
                client.close()
                client, outcome = None, "failed"
            with lock:
                outcomes[outcome] += 1
            time.sleep(0.005)
        if client is not None:
            client.close()

    threads = [threading.Thread(target=user) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    killed = time.monotonic()
    os.kill(old_pid, signal.SIGKILL)
    while victim.pid == old_pid and time.monotonic() < killed + RESTART_TIMEOUT_S:
        time.sleep(0.02)
    restart_s = time.monotonic() - killed
    time.sleep(2.0)
    stop.set()
    for thread in threads:
        thread.join()
    rejoined = "yes" if outcomes["rejoined"] else "no"
    return (f"{outcomes['failed']}/{sum(outcomes.values())} failed, ready again after "
            f"{restart_s:.1f}s, got calls: {rejoined}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    args = parser.parse_args()
    protocols: list[Protocol] = args.protocols.split(",")
    print(f"{'protocol':9} {'balancer':10} {'1 conn':>8} {'8 conns':>8} {'fresh':>8}  failover")
    for protocol in protocols:
        for name, balancer in BALANCERS.items():
            if protocol not in balancer.protocols:
                continue
            with launch(protocol, replicas=2, balancer=name) as cluster:
                one = _shares(cluster, _one_connection)
                kept = _shares(cluster, _kept_connections)
                fresh = _shares(cluster, _fresh_connections)
                failover = _failover(cluster)
            print(f"{protocol:9} {name:10} {one:>8} {kept:>8} {fresh:>8}  {failover}", flush=True)


if __name__ == "__main__":
    main()
