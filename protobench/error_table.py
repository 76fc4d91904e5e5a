"""HTTP's row of the error table, shared by every protocol that travels over HTTP.

Each protocol's own row (gRPC status, GraphQL ``extensions.code``, JSON-RPC code, ...) lives in
its spec beside its adapter (``servers/*_spec.py``). HTTP's is here because several protocols
answer with it: REST for everything, GraphQL and JSON-RPC for what fails before their own
envelope (a body too large, a missing API key), and every HTTP client reads it back. It holds
only ints, so clients read it without importing any server framework.
"""

from __future__ import annotations

from protobench.core.errors import ErrorCode
from protobench.protocol_spec import ErrorRow

HTTP_MALFORMED_BODY = 400  # REST's status for an unparseable body (422 is for wrong values)
HTTP_BAD_GATEWAY = 502  # a balancer in front found no replica to answer
# A method the path does not take is HTTP's own refusal (405 with Allow), like an unknown
# route: not a core code, so its body names HTTP's reason instead of INVALID_INPUT.
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"


def _other_http_status(status: int) -> ErrorCode:
    """A status outside the row: a balancer's 502 means no replica was ready; any other 4xx
    is the caller's input; anything else is the server's failure."""
    if status == HTTP_BAD_GATEWAY:
        return ErrorCode.NOT_READY
    return ErrorCode.INVALID_INPUT if 400 <= status < 500 else ErrorCode.INTERNAL


HTTP_STATUS: ErrorRow[int] = ErrorRow(
    {
        ErrorCode.INVALID_INPUT: 422,
        ErrorCode.NOT_FOUND: 404,
        ErrorCode.TOO_LARGE: 413,
        ErrorCode.UNAUTHENTICATED: 401,
        ErrorCode.FAILED_PRECONDITION: 409,
        ErrorCode.NOT_READY: 503,
        ErrorCode.DEADLINE_EXCEEDED: 504,
        ErrorCode.INTERNAL: 500,
    },
    _other_http_status,
)


def http_status(code: ErrorCode) -> int:
    """The HTTP status for a core code."""
    return HTTP_STATUS.code(code)


def from_http_status(status: int) -> ErrorCode:
    """The core code for an HTTP error status; any other 4xx is the caller's input."""
    return HTTP_STATUS.to_core(status)
