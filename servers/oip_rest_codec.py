"""OIP REST's predict for the CPU breakdown (``protobench.codec``): the adapter's answer to what
the shipped client asks (every output in binary, after the JSON header), the client's request
(raw FP64 features) and its reading of the answer."""

from starlette.responses import Response

from clients.http_transport import HttpAnswer, HttpRequest
from clients.oip_common import FEATURES_INPUT
from clients.oip_rest_client import OipRestClient
from protobench.codec import MODEL, ROW, UNUSED_TARGET, Codec
from protobench.core.types import PredictResponse
from servers.http_codec import http_codec
from servers.oip_infer import Call, encode
from servers.oip_rest_server import HEADER_LENGTH, decode_request, encode_answer


def _answer(response: Response) -> HttpAnswer:
    return HttpAnswer(200, "OK", bytes(response.body), response.headers.get)


def codec() -> Codec:
    client = OipRestClient(UNUSED_TARGET)
    client._inputs[MODEL] = FEATURES_INPUT[MODEL]  # what it reads once from the metadata
    request = client._predict_request(MODEL, [ROW])
    headers = dict(request.headers)
    decoded, binary = decode_request(MODEL, None, request.body, headers[HEADER_LENGTH])
    call = Call(decoded, None, None, probabilities=True)

    def server_encode(answer: PredictResponse) -> Response:
        return encode_answer(encode(call, answer), binary)

    return http_codec(client, server_encode, answer=_answer, floor=_ready)


def _ready(client: OipRestClient) -> object:
    """One readiness call: the client's ``health`` makes two (live, then ready)."""
    return client._send(HttpRequest("GET", "/v2/health/ready"), (200, 400))
