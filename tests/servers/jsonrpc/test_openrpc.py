"""``rpc.discover`` over a real server: a well-formed OpenRPC 1.x document that tells the truth.

The OpenRPC meta-schema is not shipped with any Python package, so the document's structure is
checked field by field here, every schema in it against the JSON Schema draft-07 meta-schema
(OpenRPC 1.x's schema dialect), and then the real results against the schemas it declares.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest
from jsonschema import Draft7Validator
from sklearn.datasets import load_digits

from protobench.core.images import features_to_png
from protobench.core.service import OPERATIONS
from protobench.core.types import DeleteVersionResponse
from servers.jsonrpc_spec import JSONRPC_CODE

pytestmark = pytest.mark.jsonrpc

REF = re.compile(r"^#/components/schemas/[A-Za-z0-9_.-]+$")
SERVER_CODES = set(JSONRPC_CODE.codes.values())


@pytest.fixture(scope="module")
def document(module_http: httpx.Client) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "method": "rpc.discover", "id": 1}
    answer = module_http.post("/jsonrpc", json=body).json()
    result: dict[str, Any] = answer["result"]
    return result


def _schemas(document: dict[str, Any]) -> list[Any]:
    found = list(document["components"]["schemas"].values())
    for method in document["methods"]:
        found += [param["schema"] for param in method["params"]]
        found.append(method["result"]["schema"])
    return found


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _validator(document: dict[str, Any], schema: Any) -> Draft7Validator:
    """A validator for one schema whose #/components/... references resolve in the document."""
    return Draft7Validator({**schema, "components": document["components"]})


def test_document_has_the_openrpc_required_fields(document: dict[str, Any]) -> None:
    assert re.fullmatch(r"1\.\d+\.\d+", document["openrpc"])
    assert document["info"]["title"] and document["info"]["version"]
    assert isinstance(document["methods"], list) and document["methods"]


def test_methods_are_the_core_operations(document: dict[str, Any]) -> None:
    names = [method["name"] for method in document["methods"]]
    assert sorted(names) == sorted(OPERATIONS)
    assert len(names) == len(set(names))


def test_each_method_is_a_well_formed_method_object(document: dict[str, Any]) -> None:
    for method in document["methods"]:
        assert method["summary"] and method["paramStructure"] == "by-name"
        param_names = [param["name"] for param in method["params"]]
        assert len(param_names) == len(set(param_names)), method["name"]
        for param in method["params"]:
            assert isinstance(param["required"], bool) and isinstance(param["schema"], dict)
        optional_seen = False  # OpenRPC: required params come before optional ones
        for param in method["params"]:
            assert not (optional_seen and param["required"]), method["name"]
            optional_seen = optional_seen or not param["required"]
        assert method["result"]["name"] and isinstance(method["result"]["schema"], dict)
        for error in method["errors"]:
            assert error["code"] in SERVER_CODES and error["message"]


def test_every_schema_is_valid_json_schema(document: dict[str, Any]) -> None:
    for schema in _schemas(document):
        Draft7Validator.check_schema(schema)


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    refs = _refs(document)
    assert refs, "the shared types are expected as components"
    for ref in refs:
        assert REF.match(ref), ref
        assert ref.removeprefix("#/components/schemas/") in components, ref


def test_the_params_documented_are_the_params_accepted(document: dict[str, Any]) -> None:
    methods = {method["name"]: method for method in document["methods"]}
    names = [p["name"] for p in methods["predict"]["params"]]
    assert names == ["model", "instances", "version", "caller"]
    assert [p["required"] for p in methods["predict"]["params"]] == [True, True, False, False]
    assert [p["name"] for p in methods["get_model"]["params"]] == ["name"]
    assert methods["list_models"]["params"] == methods["health"]["params"] == []


def test_real_results_match_the_declared_result_schemas(
    document: dict[str, Any], module_http: httpx.Client
) -> None:
    image = base64.b64encode(features_to_png(load_digits().data[0])).decode()
    calls = {
        "list_models": {},
        "get_model": {"name": "digits"},
        "predict": {"model": "iris", "instances": [[5.1, 3.5, 1.4, 0.2]], "version": "1"},
        "predict_image": {"model": "digits", "image": image},
        "health": {},
    }
    methods = {method["name"]: method for method in document["methods"]}
    deleted = DeleteVersionResponse(model="iris", deleted_version="1", versions=["2"])
    _validator(document, methods["delete_version"]["result"]["schema"]).validate(
        deleted.model_dump(mode="json")  # deleting would change the shared server
    )
    for name, params in calls.items():
        method = methods[name]
        for param in method["params"]:
            if param["name"] in params:
                _validator(document, param["schema"]).validate(params[param["name"]])
        body = {"jsonrpc": "2.0", "method": name, "params": params, "id": 1}
        answer = module_http.post("/jsonrpc", json=body).json()
        _validator(document, method["result"]["schema"]).validate(answer["result"])
