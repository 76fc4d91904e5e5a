"""REST: JSON resources over HTTP/1.1 (FastAPI, uvicorn)."""

from protobench.error_table import HTTP_STATUS
from protobench.protocol_spec import ProtocolSpec, ReportStyle, Streaming, Traits, Transport

SPEC = ProtocolSpec(
    name="rest",
    order=10,
    summary="REST: JSON resources over HTTP/1.1 (FastAPI)",
    server="servers.rest_server:serve",
    client="clients.rest_client:RestClient",
    default_port=8000,
    errors=HTTP_STATUS,
    transport=Transport.HTTP1,
    report=ReportStyle("REST", "#0072B2"),
    probe="clients.rest_client:RestProbe",
    codec="servers.rest_codec:codec",
    load_client_options={"transport": "gevent"},  # geventhttpclient under load
    traits=Traits(
        year="2000",
        payload="JSON · XML",
        contract="OpenAPI",
        streaming=Streaming.NONE,
        formats={"es": "XML, JSON, y otros", "en": "XML, JSON, and others"},
        feature={"es": "Formato de dato flexible", "en": "Flexible data format"},
    ),
)
