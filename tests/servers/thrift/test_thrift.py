"""The Thrift adapter's own promises: a generic thriftpy2 client works from the IDL alone,
both wire protocols, errors as InferenceError with the core code, undecodable requests
refused without harm, the API key per connection, the committed generated code current."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import thriftpy2
from pydantic import SecretStr
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.protocol.TCompactProtocol import TCompactProtocol
from thrift.Thrift import TMessageType, TType
from thrift.transport import TTransport
from thriftpy2.protocol import TCompactProtocolFactory
from thriftpy2.rpc import make_client

from clients.base import ClientError
from clients.thrift_client import ThriftClient
from protobench.codegen import ROOT, THRIFT_PACKAGE, THRIFT_VERSION_LINE, generate_thrift
from protobench.core.errors import ErrorCode
from protobench.core.service import InferenceService
from protobench.v1.inference_thrift import InferenceService as ThriftService
from tests.servers.thrift.conftest import serving

pytestmark = pytest.mark.thrift

IDL = ROOT / "proto" / "protobench" / "v1" / "inference.thrift"
SETOSA = [5.1, 3.5, 1.4, 0.2]


def _address(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host, int(port)


@pytest.mark.parametrize("compact", [False, True], ids=["binary", "compact"])
def test_a_generic_thriftpy2_client_calls_it_from_the_idl(target: str, compact: bool) -> None:
    idl = thriftpy2.load(str(IDL), module_name="generic_inference_thrift")
    factory: Any = {"proto_factory": TCompactProtocolFactory()} if compact else {}
    client = make_client(idl.InferenceService, *_address(target), timeout=10_000, **factory)
    try:
        request = idl.PredictRequest(model="iris", instances=[idl.Instance(features=SETOSA)])
        answer = client.Predict(request)
        assert answer.predictions[0].label == "setosa"
        assert len(answer.predictions[0].probabilities) == 3
        with pytest.raises(idl.InferenceError) as failed:
            client.GetModel(idl.GetModelRequest(name="nope"))
        assert failed.value.code == "NOT_FOUND"
        assert '"model": "nope"' in failed.value.details
    finally:
        client.close()


@pytest.mark.parametrize("compact", [False, True], ids=["binary", "compact"])
def test_our_client_speaks_both_protocols(target: str, compact: bool) -> None:
    with ThriftClient(target, compact=compact) as client:
        assert client.predict("iris", [SETOSA]).predictions[0].label == "setosa"
        with pytest.raises(ClientError) as failed:
            client.predict("iris", [[float("nan")] * 4])
        assert failed.value.code is ErrorCode.INVALID_INPUT
        assert failed.value.protocol_status == "INVALID_INPUT"


@pytest.mark.parametrize("compact", [False, True], ids=["binary", "compact"])
def test_prepared_calls_read_both_protocols_replies(target: str, compact: bool) -> None:
    """The load tests' prepared calls: an answer, an error answer and a failed server are each
    read from the reply's bytes in either wire protocol, on one connection."""
    with ThriftClient(target, compact=compact) as client:
        predict: Any = client.prepare("predict", model="iris", instances=[SETOSA])
        assert predict().predictions[0].label == "setosa"
        with pytest.raises(ClientError) as failed:
            client.prepare("predict", model="iris", instances=[[float("nan")] * 4])()
        assert failed.value.code is ErrorCode.INVALID_INPUT
        assert predict().predictions[0].label == "setosa"


def _predict_message(fill: Any) -> bytes:
    """A Predict call whose request struct ``fill`` writes (and may leave unfinished)."""
    buffer = TTransport.TMemoryBuffer()
    protocol = TBinaryProtocol(buffer)
    protocol.writeMessageBegin("Predict", TMessageType.CALL, 7)
    protocol.writeStructBegin("Predict_args")
    protocol.writeFieldBegin("request", TType.STRUCT, 1)
    protocol.writeStructBegin("PredictRequest")
    fill(protocol)
    return bytes(buffer.getvalue())


def _exchange(target: str, data: bytes) -> Any:
    """Send raw bytes; the decoded Predict_result, or None when the server just closed."""
    with socket.create_connection(_address(target), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    if not answer:
        return None
    protocol = TBinaryProtocol(TTransport.TMemoryBuffer(answer))
    assert protocol.readMessageBegin() == ("Predict", TMessageType.REPLY, 7)
    result = ThriftService.Predict_result()
    result.read(protocol)
    return result


def _huge_list(protocol: Any) -> None:
    protocol.writeFieldBegin("instances", TType.LIST, 2)
    protocol.writeListBegin(TType.STRUCT, 2**30)  # and not one element follows


def test_a_list_longer_than_the_limit_is_too_large_and_nothing_more_is_read(target: str) -> None:
    result = _exchange(target, _predict_message(_huge_list))
    assert result.error.code == "TOO_LARGE"
    assert result.success is None


def test_bytes_that_are_not_thrift_close_the_connection_and_the_server_goes_on(
    target: str,
) -> None:
    assert _exchange(target, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n") is None
    with ThriftClient(target) as client:
        assert client.health().ready


class _Garbage(socketserver.BaseRequestHandler):
    """A broken server's connection: the call read, ``server.answer`` sent back, then held
    open until the client hangs up (so only the bytes can fail the client, not a close)."""

    def handle(self) -> None:
        self.request.settimeout(30)
        with contextlib.suppress(OSError):
            self.request.recv(65536)
            self.request.sendall(self.server.answer)  # type: ignore[attr-defined]
            while self.request.recv(65536):
                pass


@contextlib.contextmanager
def _answering(answer: bytes) -> Iterator[str]:
    """The target of a loopback server that answers every call with ``answer``."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Garbage) as server:
        server.daemon_threads = True
        server.answer = answer  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()  # returns once serve_forever has


def _reply_header(compact: bool) -> bytes:
    buffer = TTransport.TMemoryBuffer()
    (TCompactProtocol if compact else TBinaryProtocol)(buffer).writeMessageBegin(
        "Predict", TMessageType.REPLY, 0
    )
    return bytes(buffer.getvalue())


@pytest.mark.parametrize("compact", [False, True], ids=["binary", "compact"])
@pytest.mark.parametrize("answer", ["http", "bad field type", "bad length"])
@pytest.mark.parametrize("call", ["full", "prepared"])
def test_an_answer_that_is_not_a_thrift_reply_is_a_client_error(
    compact: bool, answer: str, call: str
) -> None:
    """A server of another protocol on the port, or a broken one: each decoder failure (a
    protocol error, a bad type, a length out of bounds) is ClientError(INTERNAL), and the
    next call starts on a new connection rather than reading what is left of the old one."""
    # a string field whose length is -16 (binary) or a varint that never ends (compact)
    bad_length = b"\x18" + b"\xff" * 6 if compact else b"\x0b\x00\x00\xff\xff\xff\xf0"
    data = {
        "http": b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
        "bad field type": _reply_header(compact) + b"\xff" * 8,
        "bad length": _reply_header(compact) + bad_length,
    }[answer]
    with _answering(data) as target, ThriftClient(target, compact=compact) as client:
        predict: Any = (
            client.prepare("predict", model="iris", instances=[SETOSA])
            if call == "prepared"
            else lambda: client.predict("iris", [SETOSA])
        )
        for _ in range(2):
            with pytest.raises(ClientError) as failed:
                predict()
            assert failed.value.code is ErrorCode.INTERNAL
            assert "not a Thrift reply" in failed.value.message


def test_an_internal_error_leaks_nothing(target: str, service: InferenceService) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    service.registry.names = broken  # type: ignore[method-assign]
    for call in ("list_models", "prepared list_models"):
        with ThriftClient(target) as client, pytest.raises(ClientError) as failed:
            client.list_models() if call == "list_models" else client.prepare("list_models")()
        assert failed.value.code is ErrorCode.INTERNAL, call
        assert "secret" not in failed.value.message and "Traceback" not in failed.value.message


def test_the_api_key_is_presented_once_per_connection(service: InferenceService) -> None:
    service.settings.api_key = SecretStr("k-123")
    with serving(service) as target:
        with ThriftClient(target) as keyless:
            assert keyless.health().ready  # health needs no key
            with pytest.raises(ClientError) as refused:
                keyless.list_models()
            assert refused.value.code is ErrorCode.UNAUTHENTICATED
        with ThriftClient(target, api_key="k-123") as keyed:
            assert {m.name for m in keyed.list_models()} == {"iris", "digits"}
        with pytest.raises(ClientError) as wrong:
            ThriftClient(target, api_key="k-124").list_models()
        assert wrong.value.code is ErrorCode.UNAUTHENTICATED


def _without_version_line(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if THRIFT_VERSION_LINE not in line]


def test_the_generated_thrift_code_is_not_stale(tmp_path: Path) -> None:
    written = generate_thrift(tmp_path)
    assert written
    stale = [
        path.name
        for path in written
        if _without_version_line(path) != _without_version_line(ROOT / THRIFT_PACKAGE / path.name)
    ]
    assert not stale, f"run `make proto` and commit the result; stale: {stale}"
