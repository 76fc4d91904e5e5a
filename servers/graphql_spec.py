"""GraphQL: one POST endpoint, the client picks the fields (strawberry)."""

from protobench.core.errors import ErrorCode
from protobench.error_table import METHOD_NOT_ALLOWED
from protobench.protocol_spec import (
    ErrorRow,
    ProtocolSpec,
    ReportStyle,
    Streaming,
    Traits,
    Transport,
)

GRAPHQL_CODE: ErrorRow[str] = ErrorRow(
    {code: code.value for code in ErrorCode},
    lambda _: ErrorCode.INTERNAL,
)
"""``errors[].extensions.code`` is the core code's own name. An error without a code is a query
the schema refused (a validation error): the GraphQL client reads that as INVALID_INPUT."""

SPEC = ProtocolSpec(
    name="graphql",
    order=30,
    summary="GraphQL: one endpoint, the client chooses the fields (strawberry)",
    server="servers.graphql_server:serve",
    client="clients.graphql_client:GraphQLClient",
    default_port=8100,
    errors=GRAPHQL_CODE,
    transport=Transport.HTTP1,
    report=ReportStyle("GraphQL", "#CC79A7", note="graphql"),
    probe="clients.graphql_client:GraphQLProbe",
    codec="servers.graphql_codec:codec",
    locust_user="GraphQLUser",
    load_client_options={"transport": "gevent"},  # geventhttpclient under load
    traits=Traits(
        year="2015",
        payload="JSON",
        contract="SDL",
        streaming=Streaming.SUBSCRIPTIONS,
        formats={"es": "JSON", "en": "JSON"},
        feature={"es": "Formato de dato flexible", "en": "Flexible data format"},
    ),
)


def from_graphql_code(code: str | None) -> ErrorCode:
    """The core code for an ``extensions.code``; none at all is a query the schema refused,
    and HTTP's METHOD_NOT_ALLOWED (a 405) is the caller's mistake too."""
    if code is None or code == METHOD_NOT_ALLOWED:
        return ErrorCode.INVALID_INPUT
    return GRAPHQL_CODE.to_core(code)
