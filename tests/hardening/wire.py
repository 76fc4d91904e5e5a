"""Raw requests for the hardening tests: bytes in, the protocol's verdict out.

Every protocol's answer is read back to the core ``ErrorCode`` of each error it holds (none for
a success), with the text of the answer, so a test can check the two promises that hold for
any input: the error is the caller's (never INTERNAL or a 5xx), and nothing leaks a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import orjson

from protobench.core.errors import ErrorCode
from protobench.error_table import (
    from_graphql_code,
    from_grpc_status,
    from_http_status,
    from_jsonrpc_code,
)
from protobench.proto_convert import predict_request_to_pb
from protobench.protocols import Protocol
from protobench.v1 import inference_pb2 as pb

IRIS_ROW = [5.1, 3.5, 1.4, 0.2]
HTTP_PATHS: dict[str, str] = {
    "rest": "/models/iris/predict",
    "graphql": "/graphql",
    "jsonrpc": "/jsonrpc",
}
GRAPHQL_PREDICT = (
    'query P($instances: [[Float!]!]!) { predict(model: "iris", instances: $instances) '
    "{ predictions { label } } }"
)
LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages")
SERVICE = pb.DESCRIPTOR.services_by_name["InferenceService"]


@dataclass
class Verdict:
    """What the server answered: the core code of each error (empty: success) and the text."""

    status: object  # HTTP status or gRPC status name
    errors: list[ErrorCode] = field(default_factory=list)
    text: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def assert_caller_error_at_most(self, context: object = "") -> None:
        """A success or the caller's error: never INTERNAL, a 5xx or a leaked traceback."""
        assert ErrorCode.INTERNAL not in self.errors, (context, self)
        assert not (isinstance(self.status, int) and self.status >= 500), (context, self)
        assert self.status not in ("INTERNAL", "UNKNOWN", "DATA_LOSS"), (context, self)
        assert not any(marker in self.text for marker in LEAK_MARKERS), (context, self)


def predict_body(protocol: Protocol, rows: Any) -> dict[str, Any]:
    """A predict request for iris as a JSON document of the protocol."""
    if protocol == "rest":
        return {"instances": rows}
    if protocol == "graphql":
        return {"query": GRAPHQL_PREDICT, "variables": {"instances": rows}}
    return {"jsonrpc": "2.0", "id": 1, "method": "predict",
            "params": {"model": "iris", "instances": rows}}  # fmt: skip


def post(
    http: httpx.Client, protocol: Protocol, body: bytes, content_type: str = "application/json"
) -> Verdict:
    response = http.post(HTTP_PATHS[protocol], content=body, headers={"content-type": content_type})
    return read_http(protocol, response)


def read_http(protocol: Protocol, response: httpx.Response) -> Verdict:
    text = response.text
    try:
        answer = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        answer = None
    status = response.status_code
    verdict = Verdict(status, text=text)
    if protocol == "graphql" and isinstance(answer, dict) and answer.get("errors"):
        for error in answer["errors"]:
            code = (error.get("extensions") or {}).get("code")
            verdict.errors.append(
                from_graphql_code(code) if status == 200 or code else from_http_status(status)
            )
    elif protocol == "jsonrpc" and status == 200:
        replies = answer if isinstance(answer, list) else [answer]
        for reply in replies:
            if not isinstance(reply, dict) or ("error" not in reply and "result" not in reply):
                verdict.errors.append(ErrorCode.INTERNAL)  # not a JSON-RPC response at all
            elif reply.get("error") is not None:
                verdict.errors.append(from_jsonrpc_code(reply["error"]["code"]))
    elif status >= 400:
        code = answer.get("code") if isinstance(answer, dict) else None
        verdict.errors.append(
            ErrorCode(code)
            if isinstance(code, str) and code in ErrorCode.__members__
            else from_http_status(status)
        )
    return verdict


def grpc_call(
    channel: grpc.Channel, method: str, payload: bytes | list[bytes], timeout: float = 10.0
) -> Verdict:
    """Send raw bytes as the request (a list: a request stream) of ``method``; the answer
    stays bytes too."""
    path = f"/{SERVICE.full_name}/{method}"
    try:
        if isinstance(payload, list):
            stream = channel.stream_stream(path, None, None)  # bytes in, bytes out
            replies = list(stream(iter(payload), timeout=timeout))
            return _stream_verdict(replies)
        channel.unary_unary(path, None, None)(payload, timeout=timeout)
    except grpc.RpcError as exc:
        status: grpc.StatusCode = exc.code()
        return Verdict(status.name, [from_grpc_status(status.name)], exc.details() or "")
    return Verdict("OK")


def _stream_verdict(replies: list[bytes]) -> Verdict:
    verdict = Verdict("OK")
    for raw in replies:
        reply = pb.PredictStreamResponse.FromString(raw)
        if reply.HasField("error"):
            verdict.errors.append(ErrorCode.__members__.get(reply.error.code, ErrorCode.INTERNAL))
            verdict.text += reply.error.message
    return verdict


def padded_predict_pb(size: int) -> bytes:
    """A valid iris Predict request made exactly ``size`` bytes long by an unknown field,
    which protobuf parsers skip."""
    request = predict_request_to_pb("iris", [IRIS_ROW])
    body = request.SerializeToString()
    tag = bytes([(1000 << 3 | 2) & 0x7F | 0x80, (1000 << 3 | 2) >> 7])  # field 1000, bytes
    for length_size in range(1, 6):
        filler = size - len(body) - len(tag) - length_size
        length = _varint(filler)
        if len(length) == length_size:
            return body + tag + length + b"\0" * filler
    raise ValueError(f"cannot pad to {size} bytes")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
