"""The load test's lean path: prepared calls, and the geventhttpclient transport under the HTTP
clients, against real servers. Same answers and the same error codes as the full clients."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clients import client_class, connect
from clients.base import ClientError, InferenceClient
from loadtests.workload import PAYLOADS, Workload
from protobench.core.errors import ErrorCode
from protobench.protocols import PROTOCOLS, Protocol, spec
from tests.support.servers import RunningServer, running_server

IRIS = [[5.9, 3.0, 5.1, 1.8]]
# The protocols whose Locust user sends over geventhttpclient (their specs say so).
HTTP_PROTOCOLS = [p for p in PROTOCOLS if spec(p).load_client_options.get("transport")]


@pytest.fixture(scope="module", params=PROTOCOLS)
def server(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    protocol: Protocol = request.param
    with running_server(protocol, tmp_path_factory.mktemp(protocol), models_dir) as running:
        yield running


def _lean(server: RunningServer) -> InferenceClient:
    """The client a Locust user holds, with its spec's options under load."""
    cls = client_class(server.protocol)
    options: dict[str, Any] = dict(spec(server.protocol).load_client_options)
    return cls(server.target, timeout=10.0, **options)


def test_prepared_calls_answer_like_the_full_client(server: RunningServer) -> None:
    with connect(server.protocol, server.target) as full, _lean(server) as lean:
        expected = full.predict("iris", IRIS).predictions[0].label
        predict = lean.prepare("predict", model="iris", instances=IRIS)
        for _ in range(3):  # the same encoded request, sent again
            predict()
        assert lean.predict("iris", IRIS).predictions[0].label == expected
        lean.prepare("get_model", name="iris")()
        lean.prepare("list_models")()
        rng = random.Random(0)
        for payload in PAYLOADS:
            workload = Workload(payload)
            for _ in range(10):
                workload.next_call(rng).send(lean)
        assert [m.name for m in lean.list_models()] == [m.name for m in full.list_models()]
        assert lean.get_model("iris") == full.get_model("iris")


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"model": "no-such-model", "instances": IRIS}, ErrorCode.NOT_FOUND),
        ({"model": "iris", "instances": [[1.0, 2.0]]}, ErrorCode.INVALID_INPUT),
    ],
)
def test_prepared_calls_map_errors_to_the_core_code(
    server: RunningServer, arguments: dict[str, Any], code: ErrorCode
) -> None:
    with _lean(server) as lean:
        send = lean.prepare("predict", **arguments)
        for _ in range(2):  # the connection stays usable after an error answer
            with pytest.raises(ClientError) as failure:
                send()
            assert failure.value.code is code
        assert lean.predict("iris", IRIS).predictions


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("protocol", HTTP_PROTOCOLS)
def test_the_gevent_transport_maps_an_unreachable_server_to_not_ready(protocol: Protocol) -> None:
    cls = client_class(protocol)
    with cls(f"127.0.0.1:{_closed_port()}", timeout=2.0, transport="gevent") as client:  # type: ignore[call-arg]
        with pytest.raises(ClientError) as failure:
            client.prepare("predict", model="iris", instances=IRIS)()
        assert failure.value.code is ErrorCode.NOT_READY


def test_the_gevent_transport_reconnects_after_the_server_restarts(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept-alive socket the server closed while idle is checked and replaced, not used."""
    monkeypatch.setattr("clients.http_transport.IDLE_CHECK_S", 0.0)
    with running_server("rest", tmp_path / "a", models_dir) as first:
        port = first.port
        client = client_class("rest")(first.target, transport="gevent")  # type: ignore[call-arg]
        send = client.prepare("predict", model="iris", instances=IRIS)
        send()
    with running_server("rest", tmp_path / "b", models_dir, "--port", str(port)) as second:
        assert second.port == port
        send()
    client.close()
