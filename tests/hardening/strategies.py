"""Hypothesis strategies for each protocol's requests, derived from the protocol's own
description of itself: REST's OpenAPI document, the GraphQL schema, the JSON-RPC method list
(the OpenRPC ``rpc.discover`` names) and the protobuf descriptor.

Each strategy mixes well-formed requests with wild ones: every value the schema describes may
be replaced by arbitrary JSON, so the server sees both near-misses and garbage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from graphql import (
    GraphQLField,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)
from hypothesis import strategies as st

from clients.graphql_operations import PREDICT
from protobench.v1 import inference_pb2 as pb

Json = Any
SCALARS: st.SearchStrategy[Json] = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)
ANY_JSON: st.SearchStrategy[Json] = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
MODELS = st.sampled_from(["iris", "digits"])
# Mostly real model names, so requests get past routing into validation; sometimes odd ones.
NAMES = st.one_of(
    MODELS,
    MODELS,
    st.sampled_from(["", "nope", "../iris", "iris\x00", "ïris"]),
    st.text(max_size=12),
)
ROWS = st.lists(st.lists(st.floats(allow_nan=False), max_size=66), max_size=3)


def _or_wild(strategy: st.SearchStrategy[Json]) -> st.SearchStrategy[Json]:
    return st.one_of(strategy, strategy, strategy, ANY_JSON)


# -- REST: from the OpenAPI document ----------------------------------------------------------


def from_json_schema(schema: dict[str, Any], document: dict[str, Any]) -> st.SearchStrategy[Json]:
    """Values for the subset of JSON Schema FastAPI emits, each possibly replaced by wild JSON."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return from_json_schema(document["components"]["schemas"][name], document)
    if "anyOf" in schema:
        return st.one_of(*(from_json_schema(s, document) for s in schema["anyOf"]))
    kind = schema.get("type")
    if kind == "object":
        properties = {
            name: _or_wild(from_json_schema(sub, document))
            for name, sub in schema.get("properties", {}).items()
        }
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required},
        )
    if kind == "array":
        return st.lists(_or_wild(from_json_schema(schema.get("items", {}), document)), max_size=6)
    simple: dict[str | None, st.SearchStrategy[Json]] = {
        "number": st.floats(allow_nan=False) | st.integers(),
        "integer": st.integers(),
        "string": st.text(max_size=20),
        "boolean": st.booleans(),
        "null": st.none(),
    }
    return simple.get(kind, ANY_JSON)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    content: bytes
    content_type: str


def rest_requests(document: dict[str, Any]) -> st.SearchStrategy[HttpRequest]:
    operations = [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    return st.sampled_from(operations).flatmap(lambda op: _rest_request(document, *op))


def _rest_request(
    document: dict[str, Any], method: str, path: str, operation: dict[str, Any]
) -> st.SearchStrategy[HttpRequest]:
    parameters = operation.get("parameters", [])
    path_values = {p["name"]: NAMES for p in parameters if p["in"] == "path"}
    query_values = {p["name"]: st.text(max_size=12) for p in parameters if p["in"] == "query"}
    content = operation.get("requestBody", {}).get("content", {})
    bodies: list[st.SearchStrategy[tuple[bytes, str]]] = [
        st.tuples(st.binary(max_size=64), st.sampled_from(["application/json", "text/plain"]))
    ]
    for media_type, spec in content.items():
        if media_type == "application/json":
            typed = from_json_schema(spec["schema"], document).map(_dumps)
            bodies.append(st.tuples(typed, st.just(media_type)))
        else:
            bodies.append(st.tuples(st.binary(max_size=256), st.just(media_type)))
    return st.builds(
        lambda path_args, query, body: HttpRequest(
            method,
            path.format(**{k: quote(v, safe="") for k, v in path_args.items()})
            + ("?" + "&".join(f"{k}={quote(v)}" for k, v in query.items()) if query else ""),
            body[0] if content or method in ("POST", "PUT") else b"",
            body[1],
        ),
        st.fixed_dictionaries(path_values),
        st.fixed_dictionaries({}, optional=query_values),
        st.one_of(*bodies),
    )


def _dumps(value: Json) -> bytes:
    return json.dumps(value).encode()


# -- GraphQL: from the schema ------------------------------------------------------------------


def graphql_bodies(schema: GraphQLSchema, max_depth: int) -> st.SearchStrategy[bytes]:
    """Operations built from the schema's fields and argument types (some over the depth
    limit, some with wrong argument types), with wild variables now and then."""
    roots = [("query", schema.query_type), ("mutation", schema.mutation_type)]
    operation = st.sampled_from([(k, t) for k, t in roots if t is not None]).flatmap(
        lambda root: _selection(root[1], max_depth + 2).map(lambda sel: f"{root[0]} {sel}")
    )
    query = st.one_of(operation, operation, operation, st.text(max_size=40))
    free = st.builds(
        lambda q, variables: _dumps({"query": q, "variables": variables}),
        query,
        st.none() | st.dictionaries(st.sampled_from(["model", "instances", "image"]), ANY_JSON),
    )
    variables = st.fixed_dictionaries(
        {}, optional={"model": _or_wild(NAMES), "instances": _or_wild(ROWS)}
    )
    with_variables = variables.map(lambda v: _dumps({"query": PREDICT.document, "variables": v}))
    return st.one_of(free, with_variables)


def _selection(owner: GraphQLObjectType, depth: int) -> st.SearchStrategy[str]:
    fields = sorted(owner.fields.items())
    one = st.sampled_from(fields).flatmap(lambda item: _field(item[0], item[1], depth))
    return st.lists(one, min_size=1, max_size=3).map(lambda parts: "{ " + " ".join(parts) + " }")


def _field(name: str, field: GraphQLField, depth: int) -> st.SearchStrategy[str]:
    args = st.fixed_dictionaries(
        {},
        optional={
            arg: st.one_of(_literal(spec.type), _literal_of_json())
            for arg, spec in field.args.items()
        },
    ).map(
        lambda values: (
            "(" + ", ".join(f"{k}: {v}" for k, v in values.items()) + ")" if values else ""
        )
    )
    target = get_named_type(field.type)
    if isinstance(target, GraphQLObjectType):
        if depth <= 0:
            return args.map(lambda a: f"{name}{a} {{ __typename }}")
        sub = _selection(target, depth - 1)
        return st.builds(lambda a, s: f"{name}{a} {s}", args, sub)
    return args.map(lambda a: f"{name}{a}")


def _literal(kind: GraphQLInputType) -> st.SearchStrategy[str]:
    if isinstance(kind, GraphQLNonNull):
        return _literal(kind.of_type)
    if isinstance(kind, GraphQLList):
        return st.lists(_literal(kind.of_type), max_size=5).map(
            lambda items: f"[{', '.join(items)}]"
        )
    if isinstance(kind, GraphQLScalarType) and kind.name in ("Float", "Int"):
        return st.floats(allow_nan=False, allow_infinity=False).map(repr) | st.integers().map(str)
    return st.text(max_size=20).map(json.dumps)


def _literal_of_json() -> st.SearchStrategy[str]:
    return SCALARS.map(lambda v: "null" if v is None else json.dumps(v))


# -- JSON-RPC: envelopes around the method names -------------------------------------------------


def jsonrpc_bodies(methods: list[str]) -> st.SearchStrategy[bytes]:
    envelope = st.fixed_dictionaries(
        {"method": st.sampled_from(methods) | st.text(max_size=10)},
        optional={
            "jsonrpc": st.sampled_from(["2.0", "1.0", 2.0]) | ANY_JSON,
            "id": st.integers() | st.text(max_size=5) | ANY_JSON,
            "params": st.fixed_dictionaries(
                {},
                optional={
                    "model": NAMES,
                    "name": NAMES,
                    "instances": st.lists(
                        st.lists(st.floats(allow_nan=False), max_size=5), max_size=3
                    ),
                    "image": st.text(max_size=40),
                    "version": st.text(max_size=5),
                },
            )
            | ANY_JSON,
        },
    ).map(lambda request: {"jsonrpc": "2.0", **request})
    single = st.one_of(envelope, envelope, ANY_JSON)
    return st.one_of(
        single.map(_dumps),
        st.lists(single, max_size=10).map(_dumps),
        st.binary(max_size=64),
    )


# -- gRPC: random and mutated protobuf bytes -------------------------------------------------------

VALID_REQUESTS: dict[str, bytes] = {
    "ListModels": pb.ListModelsRequest().SerializeToString(),
    "GetModel": pb.GetModelRequest(name="iris").SerializeToString(),
    "Predict": pb.PredictRequest(
        model="iris", instances=[pb.Instance(features=[5.1, 3.5, 1.4, 0.2])]
    ).SerializeToString(),
    "PredictImage": pb.PredictImageRequest(
        model="digits", image=b"\x89PNG\r\n\x1a\n"
    ).SerializeToString(),
    "DeleteVersion": pb.DeleteVersionRequest(model="iris", version="9").SerializeToString(),
    "Health": pb.HealthRequest().SerializeToString(),
}
# Every unary RPC in the descriptor, so a new one is fuzzed too (from an empty message if it
# has no example above).
UNARY_METHODS = sorted(
    m.name
    for m in pb.DESCRIPTOR.services_by_name["InferenceService"].methods
    if not m.client_streaming and not m.server_streaming
)


def mutated(valid: bytes) -> st.SearchStrategy[bytes]:
    """``valid`` with a byte flipped, a slice cut out, or random bytes spliced in."""
    size = max(len(valid), 1)
    flip = st.tuples(st.integers(0, size - 1), st.integers(1, 255)).map(
        lambda p: bytes(b ^ p[1] if i == p[0] else b for i, b in enumerate(valid))
    )
    cut = st.tuples(st.integers(0, size), st.integers(0, size)).map(
        lambda p: valid[: min(p)] + valid[max(p) :]
    )
    splice = st.tuples(st.integers(0, size), st.binary(min_size=1, max_size=16)).map(
        lambda p: valid[: p[0]] + p[1] + valid[p[0] :]
    )
    return st.one_of(flip, cut, splice)


def grpc_payloads() -> st.SearchStrategy[tuple[str, bytes]]:
    return st.sampled_from(UNARY_METHODS).flatmap(
        lambda method: st.tuples(
            st.just(method),
            st.one_of(st.binary(max_size=128), mutated(VALID_REQUESTS.get(method, b""))),
        )
    )
