"""The OpenRPC document ``rpc.discover`` returns, generated from the method definitions.

Param and result schemas come from the same pydantic models the dispatcher validates and
encodes with (``servers.jsonrpc_methods``); shared types land once in ``components.schemas``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

import protobench
from servers.jsonrpc_methods import MethodSpec
from servers.jsonrpc_spec import JSONRPC_CODE

OPENRPC_VERSION = "1.3.2"
COMPONENTS_REF = "#/components/schemas/"

Document = dict[str, Any]


def openrpc_document(methods: Sequence[MethodSpec]) -> Document:
    inputs = [
        ((spec.name, "params"), "validation", TypeAdapter(spec.params)) for spec in methods
    ] + [((spec.name, "result"), "serialization", spec.result) for spec in methods]
    schemas, definitions = TypeAdapter.json_schemas(
        inputs,
        ref_template=COMPONENTS_REF + "{model}",
    )
    components: dict[str, Any] = definitions.get("$defs", {})
    described = [
        _method(
            spec,
            components[spec.params.__name__],
            schemas[((spec.name, "result"), "serialization")],
        )
        for spec in methods
    ]
    for spec in methods:  # params are described param by param, not as components
        components.pop(spec.params.__name__, None)
    return {
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": "protobench JSON-RPC API",
            "version": protobench.__version__,
            "description": "Iris and digits classifiers over JSON-RPC 2.0 at POST /jsonrpc. "
            "The same core serves REST, gRPC and GraphQL.",
        },
        "methods": described,
        "components": {"schemas": components},
    }


def _method(spec: MethodSpec, params_schema: dict[str, Any], result: Any) -> Document:
    required = set(params_schema.get("required", ()))
    return {
        "name": spec.name,
        "summary": spec.summary,
        "paramStructure": "by-name",
        "params": [
            _content_descriptor(name, schema, name in required)
            for name, schema in params_schema.get("properties", {}).items()
        ],
        "result": {"name": spec.result_name, "schema": result},
        "errors": [
            {"code": JSONRPC_CODE.code(code), "message": code.value} for code in spec.errors
        ],
    }


def _content_descriptor(name: str, schema: dict[str, Any], required: bool) -> Document:
    descriptor: Document = {"name": name, "required": required, "schema": schema}
    if "description" in schema:
        descriptor["description"] = schema["description"]
    return descriptor
