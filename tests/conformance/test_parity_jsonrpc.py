"""JSON-RPC exposes exactly the core operations: as dispatcher methods, in the OpenRPC
document, and with the core's own parameter names."""

from __future__ import annotations

import inspect

import pytest

from protobench.core.service import OPERATIONS, InferenceService
from protobench.core.settings import Settings
from servers.jsonrpc_dispatch import DISCOVER
from servers.jsonrpc_methods import METHODS, MethodSpec
from servers.jsonrpc_openrpc import openrpc_document
from servers.jsonrpc_server import JsonRpcApp

pytestmark = pytest.mark.jsonrpc


def test_method_definitions_are_the_core_operations() -> None:
    names = [spec.name for spec in METHODS]
    assert sorted(names) == sorted(OPERATIONS)


def test_dispatcher_serves_the_operations_and_discovery_only(settings: Settings) -> None:
    app = JsonRpcApp(InferenceService(settings))
    assert set(app.dispatcher.methods) == {*OPERATIONS, DISCOVER}


def test_openrpc_methods_are_the_core_operations() -> None:
    described = [method["name"] for method in openrpc_document(METHODS)["methods"]]
    assert sorted(described) == sorted(OPERATIONS)


@pytest.mark.parametrize("spec", METHODS, ids=[spec.name for spec in METHODS])
def test_params_are_named_like_the_core_arguments(spec: MethodSpec) -> None:
    core = inspect.signature(getattr(InferenceService, spec.name)).parameters.values()
    arguments = [p.name for p in core if p.name != "self" and p.kind is not p.KEYWORD_ONLY]
    assert list(spec.params.model_fields) == arguments
