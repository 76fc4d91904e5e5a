"""The Open Inference Protocol adapters publish exactly the specification's operations: the
REST paths of its HTTP API and the RPCs of ``inference.GRPCInferenceService``."""

from __future__ import annotations

from starlette.routing import Route

from protobench.core.service import OPERATIONS, InferenceService
from protobench.core.settings import Settings
from protobench.protocols import spec
from protobench.v1 import open_inference_pb2 as pb

SPEC_RPCS = {"ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata",
             "ModelInfer"}  # fmt: skip
SPEC_PATHS = {
    ("GET", "/v2"),
    ("GET", "/v2/health/live"),
    ("GET", "/v2/health/ready"),
    ("GET", "/v2/models/{model}"),
    ("GET", "/v2/models/{model}/versions/{version}"),
    ("GET", "/v2/models/{model}/ready"),
    ("GET", "/v2/models/{model}/versions/{version}/ready"),
    ("POST", "/v2/models/{model}/infer"),
    ("POST", "/v2/models/{model}/versions/{version}/infer"),
}


def test_rest_routes_are_the_specifications(settings: Settings) -> None:
    from servers.oip_rest_server import create_app

    app = create_app(InferenceService(settings))
    routes = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert routes == SPEC_PATHS


def test_grpc_service_is_the_specifications() -> None:
    from servers.oip_grpc_server import OPERATIONS as RPCS
    from servers.oip_grpc_server import SERVICE_NAME

    service = pb.DESCRIPTOR.services_by_name["GRPCInferenceService"]
    assert SERVICE_NAME == "inference.GRPCInferenceService"
    assert {method.name for method in service.methods} == SPEC_RPCS == set(RPCS.values())


def test_the_offered_core_operations_are_core_operations() -> None:
    for name in ("oip-rest", "oip-grpc"):
        offered = spec(name).operations
        assert offered is not None and offered <= set(OPERATIONS)
