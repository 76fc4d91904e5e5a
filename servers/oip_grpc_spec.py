"""Open Inference Protocol (V2) over gRPC: ``inference.GRPCInferenceService``, with answers in
``raw_output_contents``. Nothing here imports grpcio."""

from protobench.protocol_spec import ProtocolSpec, ReportStyle, Streaming, Traits, Transport
from servers.grpc_spec import GRPC_LOAD_OPTIONS, GRPC_STATUS
from servers.oip_rest_spec import OIP_OPERATIONS

SPEC = ProtocolSpec(
    name="oip-grpc",
    order=51,
    summary="Open Inference Protocol V2 over gRPC (inference.GRPCInferenceService; grpcio)",
    server="servers.oip_grpc_server:serve",
    client="clients.oip_grpc_client:OipGrpcClient",
    default_port=50061,
    errors=GRPC_STATUS,
    transport=Transport.H2C,
    balancers=("reuseport", "nginx", "haproxy", "client"),
    report=ReportStyle("OIP gRPC", "#E69F00"),
    probe="clients.oip_grpc_client:OipGrpcProbe",
    codec="servers.oip_grpc_codec:codec",
    load_client_options=GRPC_LOAD_OPTIONS,
    locust_setup="servers.grpc_spec:cooperate_with_gevent",
    operations=OIP_OPERATIONS,
    traits=Traits(
        year=None,
        payload="protobuf",
        contract=".proto",
        streaming=Streaming.NONE,
        feature={
            "es": "El estándar de Triton, KServe y MLServer",
            "en": "The standard of Triton, KServe and MLServer",
        },
        in_lecture=False,
    ),
)
