"""The load test's lean path: prepared calls, and the geventhttpclient transport under the HTTP
clients, against real servers. Same answers and the same error codes as the full clients."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.Thrift import TApplicationException, TMessageType
from thrift.transport.TTransport import TMemoryBuffer

from clients import client_class, connect
from clients.base import ClientError, InferenceClient
from clients.thrift_lean import ReplyReader
from loadtests.workload import PAYLOADS, Workload
from protobench.core.errors import ErrorCode
from protobench.protocols import PROTOCOLS, Protocol, spec
from protobench.v1.inference_thrift import ttypes
from protobench.v1.inference_thrift.InferenceService import Predict_result
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


def test_thrift_decodes_a_reply_that_comes_in_pieces(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Received a few bytes at a time, a prepared call's reply is read once it is whole: the
    same answers and error codes as the full client, on the same connection."""
    monkeypatch.setattr("clients.thrift_client.RECEIVE", 7)
    big = IRIS * 100
    with (
        running_server("thrift", tmp_path, models_dir) as server,
        connect("thrift", server.target) as full,
        _lean(server) as lean,
    ):
        reply: Any = lean.prepare("predict", model="iris", instances=big)()
        assert [p.label for p in reply.predictions] == [
            p.label for p in full.predict("iris", big).predictions
        ]
        with pytest.raises(ClientError) as failure:
            lean.prepare("predict", model="no-such-model", instances=IRIS)()
        assert failure.value.code is ErrorCode.NOT_FOUND
        assert lean.prepare("get_model", name="iris")()


def _thrift_message(compact: bool, kind: int, body: Any) -> bytes:
    """A Predict message of ``kind`` whose body is ``body`` (a struct), as a server writes it."""
    buffer = TMemoryBuffer()
    protocol = (TCompactProtocol if compact else TBinaryProtocol)(buffer)
    protocol.writeMessageBegin("Predict", kind, 0)
    body.write(protocol)
    protocol.writeMessageEnd()
    return bytes(buffer.getvalue())


@pytest.mark.parametrize("compact", [False, True], ids=["binary", "compact"])
def test_a_thrift_reply_is_read_whole_or_raised(compact: bool) -> None:
    """A prepared call's reply reader: the success, the InferenceError and a
    TApplicationException each come out as the generated client gives them, and every
    incomplete prefix of them asks for more bytes (EOFError)."""
    success = ttypes.PredictResponse(model="iris", predictions=[ttypes.Prediction(label="setosa")])
    error = ttypes.InferenceError(code="NOT_FOUND", message="no model")
    failure = TApplicationException(TApplicationException.INTERNAL_ERROR, "boom")
    replies = {
        "success": _thrift_message(compact, TMessageType.REPLY, Predict_result(success=success)),
        "error": _thrift_message(compact, TMessageType.REPLY, Predict_result(error=error)),
        "exception": _thrift_message(compact, TMessageType.EXCEPTION, failure),
    }
    reader = ReplyReader("Predict", compact)
    assert reader.read(replies["success"]) == success
    with pytest.raises(ttypes.InferenceError) as raised:
        reader.read(replies["error"])
    assert raised.value.code == "NOT_FOUND"
    with pytest.raises(TApplicationException) as thrown:
        reader.read(replies["exception"])
    assert thrown.value.type == TApplicationException.INTERNAL_ERROR
    for reply in replies.values():
        for end in range(len(reply)):
            with pytest.raises(EOFError):
                reader.read(reply[:end])


GEVENT_THRIFT_DEADLINE = """
from gevent import monkey; monkey.patch_all()
import socket
from clients.base import ClientError
from clients.thrift_client import ThriftClient
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(1)  # the kernel accepts the connection; nobody ever answers
client = ThriftClient(f"127.0.0.1:{listener.getsockname()[1]}", timeout=1.0)
try:
    client.prepare("predict", model="iris", instances=[[5.9, 3.0, 5.1, 1.8]])()
except ClientError as error:
    print(error.code.value)
"""


def test_a_thrift_prepared_call_keeps_its_deadline_under_gevent() -> None:
    """Under gevent the call is bounded by its own timer, not the socket's timeout: a server
    that never answers is DEADLINE_EXCEEDED (in a process of its own, monkey-patched)."""
    done = subprocess.run([sys.executable, "-c", GEVENT_THRIFT_DEADLINE], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).parents[2])  # fmt: skip
    assert done.stdout.strip() == "DEADLINE_EXCEEDED", done.stderr


GEVENT_THRIFT_CALLS = """
from gevent import monkey; monkey.patch_all()
import sys
from clients.base import ClientError
from clients.thrift_client import ThriftClient
client = ThriftClient(sys.argv[1], timeout=30.0)
predict = client.prepare("predict", model="iris", instances=[[5.9, 3.0, 5.1, 1.8]])
missing = client.prepare("predict", model="no-such-model", instances=[[5.9, 3.0, 5.1, 1.8]])
for round in range(2):
    print(predict().predictions[0].label, predict().predictions[0].label)
    try:
        missing()
    except ClientError as error:
        print(error.code.value)
    client.close()  # the next round on a new connection
"""


def test_thrift_prepared_calls_under_gevent_answer_on_every_connection(
    models_dir: Path, tmp_path: Path
) -> None:
    """Under gevent a prepared call waits on its connection's own read watcher: answers and
    error codes stay right on a connection made after the first was closed."""
    with (
        running_server("thrift", tmp_path, models_dir) as server,
        connect("thrift", server.target) as full,
    ):
        label = full.predict("iris", IRIS).predictions[0].label
        done = subprocess.run([sys.executable, "-c", GEVENT_THRIFT_CALLS, server.target],
                              capture_output=True, text=True, timeout=120,
                              cwd=Path(__file__).parents[2])  # fmt: skip
    assert done.stdout.split("\n")[:4] == [f"{label} {label}", "NOT_FOUND"] * 2, done.stderr


# The protocols whose prepared calls go over clients/grpc_h2c.py under load (their specs say so).
H2C_PROTOCOLS = [p for p in PROTOCOLS if spec(p).load_client_options.get("transport") == "h2c"]
BIG_BATCH = IRIS * 300  # an answer of several kB: more than a tiny receive window


def _over(server: RunningServer, transport: str) -> InferenceClient:
    cls = client_class(server.protocol)
    return cls(server.target, timeout=10.0, transport=transport)  # type: ignore[call-arg]


def _without_ids(reply: Any) -> Any:
    """A reply without what differs on every call (the stored prediction's id)."""
    if reply.DESCRIPTOR.fields_by_name.get("prediction_id") is not None:
        reply.ClearField("prediction_id")
    if "parameters" in reply.DESCRIPTOR.fields_by_name:
        reply.parameters.pop("prediction_id", None)
    return reply


@pytest.mark.parametrize("protocol", H2C_PROTOCOLS)
def test_h2c_answers_like_grpcio(protocol: Protocol, models_dir: Path, tmp_path: Path) -> None:
    """Same replies, same errors (code, message, details, status) over either transport."""
    calls: list[tuple[str, dict[str, Any]]] = [
        ("predict", {"model": "iris", "instances": IRIS}),
        ("predict", {"model": "iris", "instances": BIG_BATCH}),
        ("predict", {"model": "no-such-model", "instances": IRIS}),
        ("predict", {"model": "iris", "instances": [[1.0, 2.0]]}),
        ("predict_image", Workload("digits-image").next_call(random.Random(0)).arguments),
    ]
    if protocol == "grpc":
        calls += [("get_model", {"name": "iris"}), ("get_model", {"name": "nope"}),
                  ("list_models", {})]  # fmt: skip
    with (
        running_server(protocol, tmp_path, models_dir) as server,
        _over(server, "grpcio") as grpcio,
        _over(server, "h2c") as h2c,
    ):
        for operation, arguments in calls:
            outcomes = []
            for client in (grpcio, h2c):
                try:
                    outcomes.append(_without_ids(client.prepare(operation, **arguments)()))
                except ClientError as error:
                    outcomes.append((error.code, error.message, error.details,
                                     error.protocol_status))  # fmt: skip
            assert outcomes[1] == outcomes[0], (operation, arguments)
        with pytest.raises(ClientError) as failure:
            h2c.prepare("predict", model="no-such-model", instances=IRIS)()
        assert failure.value.code is ErrorCode.NOT_FOUND


@pytest.mark.parametrize("protocol", H2C_PROTOCOLS)
def test_h2c_reads_remembered_header_blocks_like_new_ones(
    protocol: Protocol, models_dir: Path, tmp_path: Path
) -> None:
    """Answers and errors interleaved on one connection, round after round: once their header
    blocks are remembered, each outcome is still grpcio's (status, message, details)."""
    calls = [{"model": "iris", "instances": IRIS}, {"model": "no-such-model", "instances": IRIS},
             {"model": "iris", "instances": [[1.0, 2.0]]}]  # fmt: skip
    with (
        running_server(protocol, tmp_path, models_dir) as server,
        _over(server, "grpcio") as grpcio,
        _over(server, "h2c") as h2c,
    ):
        for _ in range(3):
            for arguments in calls:
                outcomes = []
                for client in (grpcio, h2c):
                    try:
                        outcomes.append(_without_ids(client.prepare("predict", **arguments)()))
                    except ClientError as error:
                        outcomes.append((error.code, error.message, error.details,
                                         error.protocol_status))  # fmt: skip
                assert outcomes[1] == outcomes[0], arguments
        connection = h2c._lean._h2c._connections[0]  # type: ignore[attr-defined]
        assert connection._known_blocks  # the rounds after the first were read from memory


@pytest.mark.parametrize("protocol", H2C_PROTOCOLS)
def test_h2c_opens_a_new_connection_when_the_stream_ids_run_out(
    protocol: Protocol, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stream ids 1, 3, 5, 7, then a new connection; and a receive window far smaller than an
    answer, kept open by WINDOW_UPDATE frames."""
    monkeypatch.setattr("clients.grpc_h2c.LAST_STREAM_ID", 7)
    monkeypatch.setattr("clients.grpc_h2c.RECEIVE_WINDOW", 256)
    with running_server(protocol, tmp_path, models_dir) as server, _over(server, "h2c") as h2c:
        send = h2c.prepare("predict", model="iris", instances=BIG_BATCH)
        connection = h2c._lean._h2c._connections[0]  # type: ignore[attr-defined]
        ports = set()
        for _ in range(9):
            send()
            ports.add(connection._sock.getsockname()[1])
        assert len(ports) == 3  # calls 1-4, 5-8, 9


@pytest.mark.parametrize("protocol", H2C_PROTOCOLS)
def test_h2c_survives_a_server_that_went_away(
    protocol: Protocol, models_dir: Path, tmp_path: Path
) -> None:
    """The server stops (GOAWAY, then it closes) and a new one takes its port: the next call
    reconnects instead of failing."""
    with running_server(protocol, tmp_path / "a", models_dir) as first:
        port = first.port
        h2c = _over(first, "h2c")
        send = h2c.prepare("predict", model="iris", instances=IRIS)
        send()
    with running_server(protocol, tmp_path / "b", models_dir, "--port", str(port)) as second:
        assert second.port == port
        for _ in range(3):
            send()
    with pytest.raises(ClientError) as failure:  # nobody on the port: unreachable
        send()
    assert failure.value.code is ErrorCode.NOT_READY
    h2c.close()
