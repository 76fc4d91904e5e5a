"""The RPCs of protobench.v1.InferenceService are the core operations, plus PredictStream,
the one gRPC-only extra (the streaming form of predict)."""

from __future__ import annotations

import pytest

from protobench.core.service import OPERATIONS
from protobench.v1 import inference_pb2 as pb
from servers.grpc_servicer import EXTRA_RPCS, SERVICE_NAME, InferenceServicer
from servers.grpc_servicer import OPERATIONS as GRPC_OPERATIONS

pytestmark = pytest.mark.grpc


def _descriptor_rpcs() -> set[str]:
    service = pb.DESCRIPTOR.services_by_name["InferenceService"]
    assert service.full_name == SERVICE_NAME
    return {method.name for method in service.methods}


def test_grpc_rpcs_are_the_core_operations_plus_predict_stream() -> None:
    assert set(GRPC_OPERATIONS) == set(OPERATIONS)
    assert sorted(EXTRA_RPCS) == ["PredictStream"]
    assert _descriptor_rpcs() == set(GRPC_OPERATIONS.values()) | EXTRA_RPCS


def test_the_servicer_implements_every_rpc() -> None:
    for rpc in _descriptor_rpcs():
        assert rpc in vars(InferenceServicer), f"{rpc} is left to the generated UNIMPLEMENTED"
