"""The Thrift IDL and its adapter expose exactly the core's operations, named as the gRPC
service names them (Authenticate, the connection's API key, is Thrift's declared extra)."""

from __future__ import annotations

import thriftpy2

from protobench.codegen import PROTO_ROOT, THRIFT_FILE
from protobench.core.service import OPERATIONS
from servers.thrift_handler import OPERATIONS as HANDLED

THRIFT_ONLY = {"Authenticate"}


def _camel(name: str) -> str:
    return "".join(word.title() for word in name.split("_"))


def test_the_idl_declares_every_core_operation_and_no_other() -> None:
    idl = thriftpy2.load(str(PROTO_ROOT / THRIFT_FILE), module_name="parity_inference_thrift")
    declared = set(idl.InferenceService.thrift_services)
    assert declared - THRIFT_ONLY == {_camel(name) for name in OPERATIONS}


def test_the_adapter_handles_every_core_operation() -> None:
    assert set(HANDLED) == {_camel(name) for name in OPERATIONS}
