"""SOAP 1.1: XML envelopes over HTTP/1.1 (spyne), the WSDL at /soap?wsdl. Nothing here imports
spyne or zeep."""

from protobench.core.errors import ErrorCode
from protobench.protocol_spec import (
    ErrorRow,
    ProtocolSpec,
    ReportStyle,
    Streaming,
    Traits,
    Transport,
)

SERVER_FAULTS = (ErrorCode.NOT_READY, ErrorCode.DEADLINE_EXCEEDED, ErrorCode.INTERNAL)

SOAP_FAULT: ErrorRow[str] = ErrorRow(
    {code: "soap:Server" if code in SERVER_FAULTS else "soap:Client" for code in ErrorCode},
    lambda _: ErrorCode.INTERNAL,
)
"""Whose fault it is, the faultcode (any prefix bound to the SOAP envelope namespace). Read
back alone it says only INVALID_INPUT or INTERNAL: the exact code is in the Fault's detail."""

SPEC = ProtocolSpec(
    name="soap",
    order=70,
    summary="SOAP 1.1: XML envelopes over HTTP/1.1 (spyne), WSDL at /soap?wsdl",
    server="servers.soap_server:serve",
    client="clients.soap_client:SoapClient",
    default_port=8400,
    errors=SOAP_FAULT,
    transport=Transport.HTTP1,
    report=ReportStyle("SOAP", "#999933"),
    probe="clients.soap_client:SoapProbe",
    codec="servers.soap_codec:codec",
    locust_user="SoapUser",
    load_client_options={"transport": "gevent"},  # envelopes written once, geventhttpclient
    traits=Traits(
        year="1990s",
        payload="XML",
        contract="WSDL",
        streaming=Streaming.NONE,
        formats={"es": "XML", "en": "XML"},
        feature={"es": "Muy usado y establecido", "en": "Widely used and established"},
    ),
)
