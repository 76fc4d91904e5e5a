"""gRPC: protobuf messages over HTTP/2 (grpcio), and the gRPC status row other gRPC-borne
protocols reuse. Nothing here imports grpcio: a replica must fork before it loads."""

import functools

from protobench.core.errors import ErrorCode
from protobench.protocol_spec import (
    ErrorRow,
    ProtocolSpec,
    ReportStyle,
    Streaming,
    Traits,
    Transport,
)

GRPC_STATUS: ErrorRow[str] = ErrorRow(
    {
        ErrorCode.INVALID_INPUT: "INVALID_ARGUMENT",
        ErrorCode.NOT_FOUND: "NOT_FOUND",
        ErrorCode.TOO_LARGE: "RESOURCE_EXHAUSTED",
        ErrorCode.UNAUTHENTICATED: "UNAUTHENTICATED",
        ErrorCode.FAILED_PRECONDITION: "FAILED_PRECONDITION",
        ErrorCode.NOT_READY: "UNAVAILABLE",
        ErrorCode.DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED",
        ErrorCode.INTERNAL: "INTERNAL",
    }
)
"""Values are ``grpc.StatusCode`` member names; codes outside the row read back as INTERNAL."""

GRPC_LOAD_OPTIONS = {"local_subchannel_pool": True, "transport": "h2c"}
"""Under load every Locust user gets its own TCP connection (without a local pool, all grpcio
channels to one target share one), and its prepared calls go over ``clients.grpc_h2c``, a
fraction of grpcio's client CPU per call (docs/loadtests.md)."""


@functools.cache  # gRPC and every gRPC-borne protocol name it; once is enough
def cooperate_with_gevent() -> None:
    """grpcio must cooperate with gevent before the first channel exists (Locust runs on it)."""
    import grpc.experimental.gevent  # type: ignore[import-not-found]  # no stubs ship for it

    grpc.experimental.gevent.init_gevent()


SPEC = ProtocolSpec(
    name="grpc",
    order=20,
    summary="gRPC: protobuf over HTTP/2 (grpcio)",
    server="servers.grpc_server:serve",
    client="clients.grpc_client:GrpcClient",
    default_port=50051,
    errors=GRPC_STATUS,
    transport=Transport.H2C,
    balancers=("reuseport", "nginx", "haproxy", "client"),
    report=ReportStyle("gRPC", "#009E73", note="serialization"),
    probe="clients.grpc_client:GrpcProbe",
    codec="servers.grpc_codec:codec",
    locust_user="GrpcUser",
    load_client_options=GRPC_LOAD_OPTIONS,
    locust_setup="servers.grpc_spec:cooperate_with_gevent",
    traits=Traits(
        year="2015",
        payload="protobuf",
        contract=".proto",
        streaming=Streaming.BIDI,
        formats={"es": "JSON y otros", "en": "JSON and others"},
        feature={
            "es": "Habilidad de definir cualquier tipo de función",
            "en": "The ability to define any kind of function",
        },
    ),
)
