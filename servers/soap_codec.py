"""SOAP's predict for the CPU breakdown (``protobench.codec``): spyne writing the answer's
envelope as the adapter's WSGI application does once the operation has returned, and the
shipped client's zeep writing the request's envelope and reading the answer's (as its
``predict`` does, through the WSDL the adapter publishes, here handed to it in memory)."""

from typing import Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from spyne import MethodContext
from spyne.server.wsgi import WsgiApplication
from zeep.wsdl.utils import etree_to_string

from clients.soap_client import (
    CONTENT_TYPE,
    SoapClient,
    _plain,
    _predict_parameters,
    _restore_empty,
    envelope,
)
from protobench.codec import MODEL, ROW, UNUSED_TARGET, Codec
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.core.types import PredictAnswer, PredictResponse
from servers.soap_server import _by_attribute, soap_application


def _ok(body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = body
    response.headers = CaseInsensitiveDict({"Content-Type": CONTENT_TYPE})
    return response


class _Wsdl(BaseAdapter):
    """Answers the client's one HTTP request, for the WSDL, with the adapter's document."""

    def __init__(self, document: bytes) -> None:
        super().__init__()
        self.document = document

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        return _ok(self.document)

    def close(self) -> None:
        pass


def _server_side() -> tuple[WsgiApplication, Any]:
    """spyne's WSGI server for the adapter's application, and the context of a decoded predict
    (what the answer is written into)."""
    server = WsgiApplication(soap_application(InferenceService(Settings())))
    context = MethodContext(server, MethodContext.SERVER)
    context.in_string = [envelope("Predict", _predict_parameters(MODEL, [ROW]))]
    (context,) = server.generate_contexts(context)
    server.get_in_object(context)
    return server, context


def codec() -> Codec:
    server, context = _server_side()
    wsdl = server.doc.wsdl11
    client = SoapClient(UNUSED_TARGET)
    wsdl.build_interface_document(client._endpoint)
    client._session.mount("http://", _Wsdl(wsdl.get_interface_document()))
    proxy = client._service()
    zeep_client = client._zeep
    assert zeep_client is not None  # read the WSDL
    binding = proxy._binding
    operation = binding.get("Predict")

    def server_encode(answer: PredictAnswer) -> bytes:
        context.out_object = [_by_attribute(answer)]
        context.out_document, context.out_string = None, None
        server.get_out_string(context)
        return b"".join(context.out_string)

    def client_encode(rows: list[list[float]]) -> bytes:
        parameters = _predict_parameters(MODEL, rows)  # the keywords ``predict`` hands zeep
        message = zeep_client.create_message(proxy, "Predict", **parameters)  # type: ignore[no-untyped-call]
        return bytes(etree_to_string(message))  # type: ignore[no-untyped-call]

    def client_decode(body: bytes) -> PredictResponse:
        data = _plain(binding.process_reply(zeep_client, operation, _ok(body)))
        return PredictResponse.model_validate(_restore_empty(PredictResponse, data))

    return Codec(server_encode, client_encode, client_decode, plain=True)
