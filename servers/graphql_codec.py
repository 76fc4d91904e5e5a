"""GraphQL's predict for the CPU breakdown (``protobench.codec``).

The adapter's encode is the view's ``encode_json`` of ``{"data": {"predict": ...}}``; building
that dict from the resolver's answer is graphql-core's execution, which the breakdown counts
with parsing and validating the query (its "decode"). Here the answer goes in as pydantic's
JSON, the cheapest form of the same bytes."""

from typing import Any

import orjson
from pydantic import TypeAdapter

from clients.graphql_client import GraphQLClient
from protobench.codec import UNUSED_TARGET, Codec
from protobench.core.types import PredictResponse
from servers.http_codec import http_codec

_ANSWER = TypeAdapter(PredictResponse)


def _encode(answer: PredictResponse) -> bytes:
    document: dict[str, Any] = {"data": {"predict": orjson.Fragment(_ANSWER.dump_json(answer))}}
    return orjson.dumps(document)


def codec() -> Codec:
    return http_codec(GraphQLClient(UNUSED_TARGET), _encode)
