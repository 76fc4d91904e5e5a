"""The gRPC client beyond the shared interface: several addresses balanced round robin, a
connection of its own when asked, gevent, and input it refuses before sending."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import psutil
import pytest

from clients.base import ClientError
from clients.grpc_client import GrpcClient, channel_target
from protobench.core.errors import ErrorCode
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from tests.servers.grpc.conftest import serving
from tests.support.servers import running_server

pytestmark = pytest.mark.grpc

SETOSA = [5.1, 3.5, 1.4, 0.2]


@pytest.fixture
def two_replicas(settings: Settings) -> Iterator[list[str]]:
    """Two in-process servers with different replica names; yields their addresses."""
    with ExitStack() as stack:
        targets = []
        for name in ("replica-a", "replica-b"):
            service = InferenceService(settings.model_copy(update={"replica_name": name}))
            service.load()
            targets.append(stack.enter_context(serving(service)))
        yield targets


def _served_by(client: GrpcClient, calls: int) -> list[str]:
    return [client.predict("iris", [SETOSA]).served_by for _ in range(calls)]


def test_a_list_of_addresses_is_one_ipv4_target() -> None:
    assert channel_target(["127.0.0.1:1", "127.0.0.1:2"]) == "ipv4:127.0.0.1:1,127.0.0.1:2"
    assert channel_target(["[::1]:1", "[::1]:2"]) == "ipv6:[::1]:1,[::1]:2"
    assert channel_target("127.0.0.1:1") == "127.0.0.1:1"


def test_several_addresses_are_balanced_round_robin(two_replicas: list[str]) -> None:
    uri = "ipv4:" + ",".join(two_replicas)
    for target in (uri, two_replicas):
        with GrpcClient(target) as client:
            for _ in range(100):  # until both connections are up
                if len(set(_served_by(client, 2))) == 2:
                    break
            served = _served_by(client, 20)
        assert served.count("replica-a") == served.count("replica-b") == 10


def test_one_address_sticks_to_one_replica(two_replicas: list[str]) -> None:
    with GrpcClient(two_replicas[0]) as client:
        assert set(_served_by(client, 10)) == {"replica-a"}


def _connections_to(port: int) -> int:
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


@pytest.mark.parametrize(("local_pool", "connections"), [(False, 1), (True, 2)])
def test_local_subchannel_pool_gives_each_client_its_own_connection(
    target: str, local_pool: bool, connections: int
) -> None:
    port = int(target.rsplit(":", 1)[1])
    with (
        GrpcClient(target, local_subchannel_pool=local_pool) as first,
        GrpcClient(target, local_subchannel_pool=local_pool) as second,
    ):
        first.health()
        second.health()
        assert _connections_to(port) == connections


def test_input_that_is_not_numbers_is_refused_before_sending(client: GrpcClient) -> None:
    with pytest.raises(ClientError) as exc:
        client.predict("iris", [["a", "b", "c", "d"]])  # type: ignore[list-item]
    assert exc.value.code == ErrorCode.INVALID_INPUT
    assert exc.value.protocol_status is None


GEVENT_SCRIPT = textwrap.dedent(
    """
    from gevent import monkey

    monkey.patch_all()

    import grpc.experimental.gevent

    grpc.experimental.gevent.init_gevent()

    import sys

    import gevent

    from clients.base import ClientError
    from clients.grpc_client import GrpcClient

    in_flight = most_in_flight = 0

    def predict():
        global in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        try:
            return client.predict("iris", [[5.1, 3.5, 1.4, 0.2]])
        finally:
            in_flight -= 1

    client = GrpcClient(sys.argv[1], timeout=10)
    client.health()
    calls = [gevent.spawn(predict) for _ in range(8)]
    gevent.joinall(calls, timeout=30, raise_error=True)
    print("labels", sorted({c.value.predictions[0].label for c in calls}), len(calls))
    # A call that blocked the hub would finish before the next greenlet could start one.
    print("calls in flight at once", most_in_flight)
    try:
        client.get_model("nope")
    except ClientError as exc:
        print("error", exc.code.value)
    client.close()
    """
)


def test_works_under_gevent(models_dir: Path, tmp_path: Path) -> None:
    """In a fresh process, as Locust runs it: monkey-patched, grpc's gevent mode on."""
    with running_server("grpc", tmp_path, models_dir, "--model-delay-ms", "200") as server:
        result = subprocess.run(
            [sys.executable, "-c", GEVENT_SCRIPT, server.target],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parents[3],
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "labels ['setosa'] 8",
        "calls in flight at once 8",
        "error NOT_FOUND",
    ]
