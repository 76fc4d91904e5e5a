"""JSON-RPC 2.0: method calls in a thin JSON envelope over HTTP/1.1."""

from protobench.core.errors import ErrorCode
from protobench.protocol_spec import (
    ErrorRow,
    ProtocolSpec,
    ReportStyle,
    Streaming,
    Traits,
    Transport,
)

# JSON-RPC 2.0's own codes for envelope problems; -32602 doubles as INVALID_INPUT below.
JSONRPC_PARSE_ERROR = -32700
JSONRPC_INVALID_REQUEST = -32600
JSONRPC_METHOD_NOT_FOUND = -32601
JSONRPC_INVALID_PARAMS = -32602


def _envelope_error(code: int) -> ErrorCode:
    """Codes outside the row: the envelope's are the caller's input, others the server's."""
    if code in (JSONRPC_PARSE_ERROR, JSONRPC_INVALID_REQUEST, JSONRPC_METHOD_NOT_FOUND):
        return ErrorCode.INVALID_INPUT
    return ErrorCode.INTERNAL


JSONRPC_CODE: ErrorRow[int] = ErrorRow(
    {
        ErrorCode.INVALID_INPUT: JSONRPC_INVALID_PARAMS,
        ErrorCode.NOT_FOUND: -32001,
        ErrorCode.TOO_LARGE: -32003,
        ErrorCode.UNAUTHENTICATED: -32004,
        ErrorCode.FAILED_PRECONDITION: -32005,
        ErrorCode.NOT_READY: -32002,
        ErrorCode.DEADLINE_EXCEEDED: -32006,
        ErrorCode.INTERNAL: -32603,
    },
    _envelope_error,
)

SPEC = ProtocolSpec(
    name="jsonrpc",
    order=40,
    summary="JSON-RPC 2.0: method calls in a thin JSON envelope over HTTP/1.1",
    server="servers.jsonrpc_server:serve",
    client="clients.jsonrpc_client:JsonRpcClient",
    default_port=8200,
    errors=JSONRPC_CODE,
    transport=Transport.HTTP1,
    report=ReportStyle("JSON-RPC", "#D55E00", note="jsonrpc"),
    probe="clients.jsonrpc_client:JsonRpcProbe",
    codec="servers.jsonrpc_codec:codec",
    locust_user="JsonRpcUser",
    load_client_options={"transport": "gevent"},  # geventhttpclient under load
    traits=Traits(
        year="2005",
        payload="JSON",
        contract="OpenRPC",
        streaming=Streaming.NONE,
        formats={"es": "JSON", "en": "JSON"},
        feature={"es": "Fácil de implementar", "en": "Easy to implement"},
    ),
)
