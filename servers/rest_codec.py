"""REST's predict for the CPU breakdown (``protobench.codec``): the adapter's answer body, the
client's request body and its reading of the answer."""

from clients.rest_client import RestClient
from protobench.codec import UNUSED_TARGET, Codec
from servers.http_codec import http_codec
from servers.rest_server import predict_body


def codec() -> Codec:
    return http_codec(RestClient(UNUSED_TARGET), predict_body, plain=True)
