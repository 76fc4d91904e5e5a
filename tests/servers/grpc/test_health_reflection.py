"""The standard gRPC health and reflection services, spoken to with their own stubs (not our
generated code), as a load balancer, grpcurl or grpcui would."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from clients.base import ClientError
from clients.grpc_client import GrpcClient
from protobench.core.errors import ErrorCode
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from servers.grpc_server import build_server, start_loading
from servers.listen import Listen

pytestmark = pytest.mark.grpc

SERVICE = "protobench.v1.InferenceService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _status(channel: grpc.Channel, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
    status: int = reply.status
    return status


def test_health_is_not_serving_until_the_models_are_loaded(settings: Settings) -> None:
    service = InferenceService(settings)
    gate = threading.Event()
    load = service.load

    def load_when_let() -> None:
        gate.wait(10)
        load()

    service.load = load_when_let  # type: ignore[method-assign]
    server, health_servicer, port = build_server(service, Listen("127.0.0.1", 0))
    server.start()
    try:
        start_loading(service, health_servicer)
        target = f"127.0.0.1:{port}"
        with grpc.insecure_channel(target) as channel, GrpcClient(target) as client:
            assert _status(channel) == NOT_SERVING
            assert _status(channel, SERVICE) == NOT_SERVING
            assert not client.health().ready
            with pytest.raises(ClientError) as exc:
                client.predict("iris", [[5.1, 3.5, 1.4, 0.2]])
            assert exc.value.code == ErrorCode.NOT_READY
            assert exc.value.protocol_status == "UNAVAILABLE"  # said by the server itself
            assert "loading" in exc.value.message

            gate.set()
            deadline = time.monotonic() + 10
            while _status(channel) != SERVING and time.monotonic() < deadline:
                time.sleep(0.02)
            assert _status(channel) == SERVING
            assert _status(channel, SERVICE) == SERVING
            assert client.health().ready
    finally:
        gate.set()
        server.stop(None)


def test_health_of_an_unknown_service_is_not_found(channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        _status(channel, "no.such.Service")
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_the_services(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    (reply,) = stub.ServerReflectionInfo(iter([request]), timeout=5)
    names = {s.name for s in reply.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health"} <= names


def test_a_reflection_client_discovers_the_service_and_its_methods(
    channel: grpc.Channel,
) -> None:
    pool = DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    service = pool.FindServiceByName(SERVICE)
    methods = {m.name: m for m in service.methods}
    assert set(methods) == {
        "ListModels", "GetModel", "Predict", "PredictImage", "PredictStream",
        "DeleteVersion", "Health", "GetStrategy", "SetStrategy", "Promote", "Rollback",
        "Feedback", "GetPrediction", "ListPredictions",
    }  # fmt: skip
    predict = methods["Predict"]
    assert predict.input_type.full_name == "protobench.v1.PredictRequest"
    assert predict.output_type.full_name == "protobench.v1.PredictResponse"
    stream = methods["PredictStream"]
    assert stream.client_streaming and stream.server_streaming
    request = pool.FindMessageTypeByName("protobench.v1.PredictRequest")
    assert [f.name for f in request.fields] == ["model", "instances", "version", "caller"]
