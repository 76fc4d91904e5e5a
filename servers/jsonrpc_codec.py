"""JSON-RPC's predict for the CPU breakdown (``protobench.codec``): the method's result as the
dispatcher serialises it (pydantic's JSON spliced into jsonrpcserver's response, then orjson),
the client's request body and its reading of the answer."""

import orjson
from jsonrpcserver.response import SuccessResponse
from oslash.either import Right  # type: ignore[import-untyped]  # jsonrpcserver's Either

from clients.jsonrpc_client import JsonRpcClient
from protobench.codec import UNUSED_TARGET, Codec
from protobench.core.types import PredictResponse
from servers.http_codec import http_codec
from servers.jsonrpc_dispatch import _to_wire, encode
from servers.jsonrpc_methods import METHODS

PREDICT = next(spec for spec in METHODS if spec.name == "predict")


def _encode(answer: PredictResponse) -> bytes:
    result = orjson.Fragment(PREDICT.result.dump_json(answer))
    # the dispatcher's methods answer a Fragment, which jsonrpcserver passes on untouched
    return encode(_to_wire(Right(SuccessResponse(result, 1))))  # type: ignore[arg-type]


def codec() -> Codec:
    return http_codec(JsonRpcClient(UNUSED_TARGET), _encode)
