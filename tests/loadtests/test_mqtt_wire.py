"""The MQTT users' lean path (clients/mqtt_wire.py) against real brokers: the embedded amqtt
(MQTT 3.1.1) and mosquitto (MQTT 5). Same answers and the same errors as paho's path."""

from __future__ import annotations

import functools
import random
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from clients.base import ClientError
from clients.mqtt_client import MqttClient, MqttTransport
from loadtests.workload import Workload
from protobench.core.errors import ErrorCode
from tests.support.mosquitto import running_mosquitto
from tests.support.servers import RunningServer, running_server

IRIS = [[5.9, 3.0, 5.1, 1.8]]
API_KEY = "wire-test-key-0123456789"
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("predict", {"model": "iris", "instances": IRIS}),
    ("predict", {"model": "iris", "instances": IRIS * 50}),
    ("predict", {"model": "no-such-model", "instances": IRIS}),
    ("predict", {"model": "iris", "instances": [[1.0, 2.0]]}),
    ("predict", {"model": "iris", "instances": IRIS, "version": "9"}),
    ("predict_image", Workload("digits-image").next_call(random.Random(0)).arguments),
    ("get_model", {"name": "iris"}),
    ("get_model", {"name": "nope"}),
    ("list_models", {}),
]


@pytest.fixture(scope="module", params=["3.1.1", "5"])
def broker(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, bool]]:
    """An MQTT server with an API key: on its embedded broker (3.1.1) or on mosquitto (5)."""
    workdir = tmp_path_factory.mktemp(f"wire-{request.param}")
    env = {"PROTOBENCH_API_KEY": API_KEY}
    with ExitStack() as stack:
        if request.param == "5":
            broker = stack.enter_context(running_mosquitto(workdir / "broker"))
            env["PROTOBENCH_MQTT_BROKER"] = f"mqtt://{broker}"
        server = stack.enter_context(running_server("mqtt", workdir, models_dir, env=env))
        yield server, request.param == "5"


def _client(
    server: RunningServer, transport: MqttTransport, api_key: str | None = API_KEY
) -> MqttClient:
    return MqttClient(server.target, timeout=20.0, api_key=api_key, transport=transport)


def _outcome(call: Callable[[], object]) -> object:
    """What a call gave: an error's code, message, details and status, or the answer as JSON
    without what differs on every call (the stored prediction's id)."""
    try:
        answer = call()
    except ClientError as error:
        return (error.code, error.message, error.details, error.protocol_status)
    documents = answer if isinstance(answer, list) else [answer]
    dumped: list[Any] = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d
                         for d in documents]  # fmt: skip
    return [{k: v for k, v in d.items() if k != "prediction_id"} for d in dumped]


def test_the_wire_answers_like_paho(broker: tuple[RunningServer, bool]) -> None:
    """Full operations over paho (validated into core types) and prepared calls over the wire
    (JSON, checked) give the same documents and the same errors."""
    server, mqtt5 = broker
    with _client(server, "paho") as paho, _client(server, "wire") as wire:
        for operation, arguments in CALLS:
            expected = _outcome(functools.partial(getattr(paho, operation), **arguments))
            prepared = wire.prepare(operation, **arguments)
            for _ in range(2):  # the same template, a new packet id and key
                assert _outcome(prepared) == expected, (operation, arguments)
        assert wire._wire is not None
        assert wire._wire.mqtt5 is mqtt5
        assert wire.predict("iris", IRIS).predictions  # the full operations still go over paho


def test_the_wire_maps_errors_to_the_core_code(broker: tuple[RunningServer, bool]) -> None:
    server = broker[0]
    with _client(server, "wire") as wire, _client(server, "wire", api_key=None) as anonymous:
        for arguments, code in [
            ({"model": "no-such-model", "instances": IRIS}, ErrorCode.NOT_FOUND),
            ({"model": "iris", "instances": [[1.0, 2.0]]}, ErrorCode.INVALID_INPUT),
        ]:
            with pytest.raises(ClientError) as failure:
                wire.prepare("predict", **arguments)()
            assert failure.value.code is code
        with pytest.raises(ClientError) as failure:
            anonymous.prepare("predict", model="iris", instances=IRIS)()
        assert failure.value.code is ErrorCode.UNAUTHENTICATED
        assert wire.prepare("predict", model="iris", instances=IRIS)()


def test_an_idle_connection_is_replaced_before_the_next_call(
    broker: tuple[RunningServer, bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = broker[0]
    monkeypatch.setattr("clients.mqtt_wire.IDLE_LIMIT_S", -1.0)  # every call counts as idle
    with _client(server, "wire") as wire:
        send = wire.prepare("predict", model="iris", instances=IRIS)
        ports = set()
        for _ in range(3):
            send()
            assert wire._wire is not None and wire._wire._sock is not None
            ports.add(wire._wire._sock.getsockname()[1])
        assert len(ports) == 3


def test_an_unreachable_broker_is_not_ready() -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with MqttClient(f"127.0.0.1:{port}", timeout=5.0, transport="wire") as wire:
        with pytest.raises(ClientError) as failure:
            wire.prepare("predict", model="iris", instances=IRIS)()
        assert failure.value.code is ErrorCode.NOT_READY
