"""Thrift: Apache Thrift's binary (or compact) protocol over raw TCP, the IDL in
proto/protobench/v1/inference.thrift. Nothing here imports thrift."""

from protobench.core.errors import ErrorCode
from protobench.protocol_spec import (
    ErrorRow,
    ProtocolSpec,
    ReportStyle,
    Streaming,
    Traits,
    Transport,
)

THRIFT_ERROR: ErrorRow[str] = ErrorRow({code: code.value for code in ErrorCode})
"""InferenceError.code is the core code's own name; a name this version does not know is
INTERNAL."""

SPEC = ProtocolSpec(
    name="thrift",
    order=60,
    summary="Thrift: binary (or compact) structs over raw TCP (Apache Thrift)",
    server="servers.thrift_server:serve",
    client="clients.thrift_client:ThriftClient",
    default_port=9090,
    errors=THRIFT_ERROR,
    transport=Transport.TCP,
    report=ReportStyle("Thrift", "#882255"),
    probe="clients.thrift_client:ThriftProbe",
    codec="servers.thrift_codec:codec",
    locust_user="ThriftUser",
    traits=Traits(
        year="2007",
        payload="Thrift Binary · Compact",
        contract=".thrift",
        streaming=Streaming.NONE,
        formats={"es": "JSON o binario", "en": "JSON or binary"},
        feature={"es": "Adaptable a muchos casos de uso", "en": "Adaptable to many use cases"},
    ),
)
