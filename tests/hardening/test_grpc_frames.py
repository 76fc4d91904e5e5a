"""Hand-made gRPC requests over raw HTTP/2 (issue 21's 36-frame probe, the cases that mattered):
what the caller's bytes get, frame by frame.

Two kinds of answer are checked. What protobench decides (a missing, cut-short or undecodable
message) must be INVALID_ARGUMENT. What grpcio's C core decides before any Python runs (a
compressed flag it cannot honour, corrupt compressed data, unparseable ``grpc-encoding`` or
``grpc-timeout``) is INTERNAL, gRPC's own code for those (its statuscodes.md); those are
asserted as they are, so that a grpcio upgrade that changes them shows up here and in
docs/hardening.md.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from protobench.proto_convert import predict_request_to_pb
from protobench.v1 import inference_pb2_grpc as pb_grpc
from tests.hardening.h2_wire import RawAnswer, call, frame
from tests.support.servers import RunningServer, running_server

pytestmark = pytest.mark.grpc

PREDICT = "/protobench.v1.InferenceService/Predict"
OK = predict_request_to_pb("iris", [[5.1, 3.5, 1.4, 0.2]]).SerializeToString()
INVALID_ARGUMENT, RESOURCE_EXHAUSTED, INTERNAL = 3, 8, 13

OURS = {
    "valid": (frame(OK), {}, 0),
    "valid, gzip": (frame(gzip.compress(OK), compressed=True), {"grpc-encoding": "gzip"}, 0),
    "valid, deflate": (frame(zlib.compress(OK), compressed=True), {"grpc-encoding": "deflate"}, 0),
    "empty body": (b"", {}, INVALID_ARGUMENT),
    "a cut-short length prefix": (b"\0\0", {}, INVALID_ARGUMENT),
    "a length over what follows": (frame(OK, length=len(OK) + 10), {}, INVALID_ARGUMENT),
    "a length under what follows": (frame(OK, length=3), {}, INVALID_ARGUMENT),
    "not protobuf": (frame(b"\xff\xff\xff"), {}, INVALID_ARGUMENT),
    "a gzip bomb (48 kB to 50 MB)": (
        frame(gzip.compress(bytes(50_000_000)), compressed=True),
        {"grpc-encoding": "gzip"},
        RESOURCE_EXHAUSTED,
    ),
}
GRPC_CORE = {
    "issue 21's reproducer: flag set, empty": (b"\x01\0\0\0\0", {}, "no encoding configured"),
    "flag set, no grpc-encoding": (frame(OK, compressed=True), {}, "no encoding configured"),
    "flag set, identity": (
        frame(OK, compressed=True), {"grpc-encoding": "identity"}, "no encoding configured"
    ),
    "corrupt gzip": (
        frame(b"not gzip", compressed=True), {"grpc-encoding": "gzip"}, "Decompression failed"
    ),
    "corrupt deflate": (
        frame(b"not deflate", compressed=True), {"grpc-encoding": "deflate"},
        "Decompression failed",
    ),
    "unknown grpc-encoding": (frame(OK), {"grpc-encoding": "br"}, "'grpc-encoding'"),
    "unparseable grpc-encoding": (frame(OK), {"grpc-encoding": "@@,,"}, "'grpc-encoding'"),
    "grpc-timeout without a unit": (frame(OK), {"grpc-timeout": "100"}, "'grpc-timeout'"),
    "grpc-timeout not a number": (frame(OK), {"grpc-timeout": "abc"}, "'grpc-timeout'"),
}  # fmt: skip


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server("grpc", tmp_path_factory.mktemp("grpc-frames"), models_dir) as running:
        yield running


def _send(server: RunningServer, body: bytes, headers: dict[str, str]) -> RawAnswer:
    answer = call(server.host, server.port, PREDICT, body, headers)
    assert answer.http_status == 200 and answer.reset is None, answer
    with grpc.insecure_channel(server.target) as channel:  # and the server still predicts
        pb_grpc.InferenceServiceStub(channel).Predict(predict_request_to_pb("iris", [[1, 2, 3, 4]]))
    return answer


@pytest.mark.parametrize(("body", "headers", "status"), OURS.values(), ids=OURS.keys())
def test_what_protobench_decides(
    server: RunningServer, body: bytes, headers: dict[str, str], status: int
) -> None:
    answer = _send(server, body, headers)
    assert answer.grpc_status == status, answer
    assert "b'" not in answer.grpc_message  # no Python repr of the caller's bytes


@pytest.mark.parametrize(("body", "headers", "says"), GRPC_CORE.values(), ids=GRPC_CORE.keys())
def test_what_grpcio_decides_before_python_runs(
    server: RunningServer, body: bytes, headers: dict[str, str], says: str
) -> None:
    answer = _send(server, body, headers)
    assert answer.grpc_status == INTERNAL and says in answer.grpc_message, answer


def test_the_log_holds_no_traceback(server: RunningServer) -> None:
    _send(server, b"", {})
    assert "Traceback" not in server.log()
