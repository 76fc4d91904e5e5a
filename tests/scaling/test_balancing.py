"""Two replicas behind each balancer, for each protocol: requests spread (or, at L4, stick to
one connection's replica), answers equal a single server's, and a killed replica comes back.

Tests in this module share one cluster per protocol × balancer (see ``conftest.cluster``); the
failover test runs last in each group because it restarts a replica.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sklearn.datasets import load_iris

from clients import client_class, connect
from clients.base import ClientError
from protobench.core.types import Prediction
from protobench.protocols import Protocol, spec
from servers.launcher import Cluster
from tests.support.servers import running_server

REQUESTS = 200
# Fresh clients make fresh connections, which is what an L4 balancer spreads: each is built as
# a Locust user builds its own. By default grpcio's channels to one address share a process-wide
# connection, and a new channel can take over the one a closed channel has not torn down yet:
# one loaded CI run sent 77 % of its calls to one replica that way. Two calls
# per client halve the cost of building clients (~35 ms each for HTTP); with 100 clients a share
# under 25 % at a fair 50/50 split has a probability below 1e-6.
CALLS_PER_CLIENT = 2
MIN_SHARE = 0.25
ROWS: list[list[float]] = load_iris().data[::15].tolist()  # ten flowers of all three kinds

# Killing a replica under light load (2 threads, a fresh connection per request): the
# requests that fail are the ones in flight to it, or queued on its socket, at that moment.
FAILOVER_THREADS = 2
MAX_FAILED_REQUESTS = 6
RESTART_TIMEOUT_S = 60.0  # a restart imports and loads models: 30 s was short at load 14


@pytest.fixture(scope="session")
def single_server_answers() -> dict[Protocol, list[list[Prediction]]]:
    """What one plain server answered for ``ROWS``, per protocol (filled on first use)."""
    return {}


@pytest.fixture
def expected(
    cluster: Cluster,
    single_server_answers: dict[Protocol, list[list[Prediction]]],
    models_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[list[Prediction]]:
    """The predictions to demand from the cluster: a single plain server's."""
    if cluster.protocol not in single_server_answers:
        workdir = tmp_path_factory.mktemp(f"single-{cluster.protocol}")
        with (
            running_server(cluster.protocol, workdir, models_dir) as server,
            connect(cluster.protocol, server.target) as client,
        ):
            single_server_answers[cluster.protocol] = [
                client.predict("iris", [row]).predictions for row in ROWS
            ]
    return single_server_answers[cluster.protocol]


def _assert_spread(served: Counter[str], cluster: Cluster) -> None:
    assert set(served) == {replica.name for replica in cluster.replicas}, served
    for name, count in served.items():
        assert count >= MIN_SHARE * sum(served.values()), f"{name} got {count}: {served}"


def _counts_since(cluster: Cluster, before: dict[str, int]) -> Counter[str]:
    after = cluster.request_counts()
    return Counter({name: after[name] - before.get(name, 0) for name in after if after[name]})


def test_fresh_clients_reach_every_replica_with_single_server_answers(
    cluster: Cluster, expected: list[list[Prediction]]
) -> None:
    before = cluster.request_counts()
    served: Counter[str] = Counter()
    fresh_client = client_class(cluster.protocol)
    own_connection = spec(cluster.protocol).load_client_options
    for first in range(0, REQUESTS, CALLS_PER_CLIENT):
        with fresh_client(cluster.target, **own_connection) as client:
            for i in range(first, first + CALLS_PER_CLIENT):
                response = client.predict("iris", [ROWS[i % len(ROWS)]])
                assert response.predictions == expected[i % len(ROWS)]
                served[response.served_by] += 1
    _assert_spread(served, cluster)
    assert _counts_since(cluster, before) == served  # the replicas' own counters agree


def test_one_connection_sticks_at_l4_and_spreads_at_l7(cluster: Cluster) -> None:
    """The lesson: the kernel (reuseport) balances connections, so one keep-alive or HTTP/2
    connection stays on one replica; nginx, HAProxy and gRPC's round_robin balance requests."""
    served: Counter[str] = Counter()
    with connect(cluster.protocol, cluster.target) as client:
        for i in range(REQUESTS):
            served[client.predict("iris", [ROWS[i % len(ROWS)]]).served_by] += 1
    if cluster.balancer == "reuseport":
        assert len(served) == 1, served
    else:
        _assert_spread(served, cluster)


class _LightLoad:
    """A few threads sending predictions, a fresh client each, until stopped."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.served: Counter[str] = Counter()
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send) for _ in range(FAILOVER_THREADS)]

    def _send(self) -> None:
        deadline = time.monotonic() + 3 * RESTART_TIMEOUT_S
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                with connect(self.cluster.protocol, self.cluster.target, timeout=5.0) as client:
                    served_by = client.predict("iris", [ROWS[0]]).served_by
                with self._lock:
                    self.served[served_by] += 1
            except ClientError as exc:
                with self._lock:
                    self.failures.append(f"{exc.code.value}: {exc.message}")
            time.sleep(0.01)

    def __enter__(self) -> _LightLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def served_by(self, name: str) -> int:
        with self._lock:
            return self.served[name]


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def test_killed_replica_is_routed_around_and_restarted(cluster: Cluster) -> None:
    victim = cluster.replicas[0]
    old_pid = victim.pid
    with _LightLoad(cluster) as load:
        _wait_for(lambda: load.served_by(victim.name) > 0, 10.0, "the load reaches the victim")
        os.kill(old_pid, signal.SIGKILL)
        _wait_for(lambda: victim.pid != old_pid, RESTART_TIMEOUT_S, "the victim is restarted")
        served_before = load.served_by(victim.name)
        _wait_for(
            lambda: load.served_by(victim.name) > served_before,
            RESTART_TIMEOUT_S,
            "the restarted replica serves again",
        )
    print(f"\n{cluster.protocol}/{cluster.balancer}: {len(load.failures)} of "
          f"{sum(load.served.values()) + len(load.failures)} requests failed: "
          f"{Counter(load.failures).most_common(3)}")  # fmt: skip
    assert len(load.failures) <= MAX_FAILED_REQUESTS, load.failures
    assert cluster.health() == {replica.name: True for replica in cluster.replicas}
