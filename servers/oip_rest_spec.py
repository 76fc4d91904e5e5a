"""Open Inference Protocol (V2) over REST: the API Triton, MLServer and KServe serve."""

from protobench.error_table import HTTP_STATUS
from protobench.protocol_spec import (
    ErrorRow,
    ProtocolSpec,
    ReportStyle,
    Streaming,
    Traits,
    Transport,
)

OIP_HTTP_STATUS: ErrorRow[int] = HTTP_STATUS.replace(INVALID_INPUT=400)
"""HTTP's row, except that the specification answers a bad request with 400, not 422."""

OIP_OPERATIONS = frozenset({"health", "predict", "predict_image"})
"""The core operations the standard has a place for; model metadata exists but cannot carry
protobench's (labels, task, default version), so ``get_model`` is not one of them."""

SPEC = ProtocolSpec(
    name="oip-rest",
    order=50,
    summary="Open Inference Protocol V2 over REST (KServe/Triton/MLServer's API; Starlette)",
    server="servers.oip_rest_server:serve",
    client="clients.oip_rest_client:OipRestClient",
    default_port=8300,
    errors=OIP_HTTP_STATUS,
    transport=Transport.HTTP1,
    report=ReportStyle(
        "OIP REST",
        "#56B4E9",
        note="oip",
        texts={
            "en": {
                "note.oip.title": "The standard protocol against our own",
                "note.oip.text": "The Open Inference Protocol (V2) is what Triton, MLServer, "
                "KServe and TorchServe speak: typed tensors with a name, a datatype and a shape. "
                "Its JSON is longer than our REST's, and its binary extension sends numbers as "
                "raw bytes instead of text.",
                "note.oip.evidence": "bodies per call were {rest_body} bytes with REST and "
                "{body} with OIP REST; the server spent {rest_us} µs and {us} µs of CPU per "
                "request.",
            },
            "es": {
                "note.oip.title": "El protocolo estándar frente al nuestro",
                "note.oip.text": "El Open Inference Protocol (V2) es el que hablan Triton, "
                "MLServer, KServe y TorchServe: tensores tipados con nombre, tipo de dato y "
                "forma. Su JSON es más largo que el de nuestro REST, y su extensión binaria "
                "envía los números como bytes en lugar de texto.",
                "note.oip.evidence": "los cuerpos por llamada fueron de {rest_body} bytes con "
                "REST y {body} con OIP REST; el servidor gastó {rest_us} µs y {us} µs de CPU "
                "por petición.",
            },
        },
    ),
    probe="clients.oip_rest_client:OipRestProbe",
    codec="servers.oip_rest_codec:codec",
    load_client_options={"transport": "gevent"},  # geventhttpclient under load
    operations=OIP_OPERATIONS,
    traits=Traits(
        year=None,
        payload="JSON",
        contract="OIP V2",
        streaming=Streaming.NONE,
        feature={
            "es": "El estándar de Triton, KServe y MLServer",
            "en": "The standard of Triton, KServe and MLServer",
        },
        in_lecture=False,
    ),
)
