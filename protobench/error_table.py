"""How each core ErrorCode is said in each protocol: the one table servers and clients share.

It lives beside the core rather than in ``servers/`` because the clients read it backwards
(protocol status -> core code) and must not import any server framework to do so. It holds
only plain ints and strings, so it imports no transport library either.
"""

from __future__ import annotations

from dataclasses import dataclass

from protobench.core.errors import ErrorCode


@dataclass(frozen=True)
class ProtocolCodes:
    http_status: int
    grpc_status: str  # a grpc.StatusCode member name
    graphql_code: str  # the value of errors[].extensions.code
    jsonrpc_code: int


ERROR_TABLE: dict[ErrorCode, ProtocolCodes] = {
    ErrorCode.INVALID_INPUT: ProtocolCodes(422, "INVALID_ARGUMENT", "INVALID_INPUT", -32602),
    ErrorCode.NOT_FOUND: ProtocolCodes(404, "NOT_FOUND", "NOT_FOUND", -32001),
    ErrorCode.TOO_LARGE: ProtocolCodes(413, "RESOURCE_EXHAUSTED", "TOO_LARGE", -32003),
    ErrorCode.UNAUTHENTICATED: ProtocolCodes(401, "UNAUTHENTICATED", "UNAUTHENTICATED", -32004),
    ErrorCode.FAILED_PRECONDITION: ProtocolCodes(
        409, "FAILED_PRECONDITION", "FAILED_PRECONDITION", -32005
    ),
    ErrorCode.NOT_READY: ProtocolCodes(503, "UNAVAILABLE", "NOT_READY", -32002),
    ErrorCode.DEADLINE_EXCEEDED: ProtocolCodes(
        504, "DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED", -32006
    ),
    ErrorCode.INTERNAL: ProtocolCodes(500, "INTERNAL", "INTERNAL", -32603),
}

# JSON-RPC 2.0's own codes for envelope problems; -32602 doubles as INVALID_INPUT above.
JSONRPC_PARSE_ERROR = -32700
JSONRPC_INVALID_REQUEST = -32600
JSONRPC_METHOD_NOT_FOUND = -32601
JSONRPC_INVALID_PARAMS = -32602

# REST's own status for an unparseable body (the table's 422 is for well-formed but wrong input).
HTTP_MALFORMED_BODY = 400


def _reverse(field: str) -> dict[object, ErrorCode]:
    return {getattr(codes, field): code for code, codes in ERROR_TABLE.items()}


_BY_HTTP = _reverse("http_status")
_BY_GRPC = _reverse("grpc_status")
_BY_GRAPHQL = _reverse("graphql_code")
_BY_JSONRPC = _reverse("jsonrpc_code")


HTTP_BAD_GATEWAY = 502  # a balancer in front found no replica to answer


def from_http_status(status: int) -> ErrorCode:
    """The core code for an HTTP error status; any other 4xx is the caller's input."""
    if status in _BY_HTTP:
        return _BY_HTTP[status]
    if status == HTTP_BAD_GATEWAY:
        return ErrorCode.NOT_READY
    return ErrorCode.INVALID_INPUT if 400 <= status < 500 else ErrorCode.INTERNAL


def from_grpc_status(name: str) -> ErrorCode:
    """The core code for a grpc.StatusCode name; codes outside the table are INTERNAL."""
    return _BY_GRPC.get(name, ErrorCode.INTERNAL)


def from_graphql_code(code: str | None) -> ErrorCode:
    """The core code for a GraphQL ``extensions.code``; a missing code is a query the schema
    refused (a validation error), which is the caller's input."""
    if code is None:
        return ErrorCode.INVALID_INPUT
    return _BY_GRAPHQL.get(code, ErrorCode.INTERNAL)


def from_jsonrpc_code(code: int) -> ErrorCode:
    """The core code for a JSON-RPC error code; envelope errors are the caller's input."""
    if code in _BY_JSONRPC:
        return _BY_JSONRPC[code]
    if code in (JSONRPC_PARSE_ERROR, JSONRPC_INVALID_REQUEST, JSONRPC_METHOD_NOT_FOUND):
        return ErrorCode.INVALID_INPUT
    return ErrorCode.INTERNAL
