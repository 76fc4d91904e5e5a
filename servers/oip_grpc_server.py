"""Open Inference Protocol (V2) over gRPC: ``inference.GRPCInferenceService`` (the spec's proto,
proto/protobench/v1/open_inference.proto) on the same grpcio server set-up as ``grpc``.

Inputs are read from ``raw_input_contents`` when present, else from each input's typed
``contents``; answers always go in ``raw_output_contents`` (what Triton's client reads).
Errors are the gRPC status of the core code (``GRPC_STATUS``), its message as the details.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from protobench.core.auth import require_authenticated
from protobench.core.errors import CoreError
from protobench.core.service import InferenceService
from protobench.oip_tensors import (
    BYTES,
    Tensor,
    check_header,
    from_list,
    from_raw,
    invalid,
    join_bytes,
    raw_of,
)
from protobench.v1 import open_inference_pb2 as pb
from protobench.v1 import open_inference_pb2_grpc as pb_grpc
from servers.adapter_common import INTERNAL_MESSAGE
from servers.grpc_server import run_server
from servers.grpc_servicer import status_of
from servers.listen import Listen
from servers.oip_infer import (
    CALLER_PARAMETER,
    InferAnswer,
    InferRequest,
    TensorMetadata,
    infer,
    model_metadata,
    model_ready,
    server_metadata,
)

log = logging.getLogger(__name__)

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["GRPCInferenceService"].full_name
# The typed contents field of each datatype (InferTensorContents).
CONTENTS = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    BYTES: "bytes_contents",
}
# Which RPC carries each operation of the protocol; the parity test checks it against the proto.
OPERATIONS = {
    "server_live": "ServerLive",
    "server_ready": "ServerReady",
    "model_ready": "ModelReady",
    "server_metadata": "ServerMetadata",
    "model_metadata": "ModelMetadata",
    "model_infer": "ModelInfer",
}

T = TypeVar("T")
Context = grpc.ServicerContext


def _answer(context: Context, rpc: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except CoreError as error:
        context.abort(status_of(error.code), error.message)
    except Exception as error:
        log.error("unexpected error in %s", rpc, exc_info=error)
        context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)


def decode_inputs(request: pb.ModelInferRequest) -> list[Tensor]:
    raw, inputs = request.raw_input_contents, request.inputs
    if raw and len(raw) != len(inputs):
        raise invalid(f"{len(raw)} raw_input_contents for {len(inputs)} inputs")
    tensors = []
    for index, tensor in enumerate(inputs):
        name, datatype, shape = check_header(tensor.name, tensor.datatype, tuple(tensor.shape))
        if raw:
            if tensor.HasField("contents"):
                raise invalid(f"input {name!r}: contents and raw_input_contents both given")
            tensors.append(from_raw(name, datatype, shape, raw[index]))
        else:
            values = list(getattr(tensor.contents, CONTENTS[datatype]))
            tensors.append(from_list(name, datatype, shape, values))
    return tensors


def _version(value: str) -> str | None:
    return value or None


def decode_request(request: pb.ModelInferRequest) -> InferRequest:
    caller = request.parameters.get(CALLER_PARAMETER) if request.parameters else None
    if caller is not None and caller.WhichOneof("parameter_choice") != "string_param":
        raise invalid("the 'caller' parameter must be a string")
    return InferRequest(
        request.model_name,
        request.model_version or None,
        decode_inputs(request),
        [output.name for output in request.outputs] if request.outputs else [],
        request.id,
        caller.string_param if caller is not None else None,
    )


def encode_answer(answer: InferAnswer) -> pb.ModelInferResponse:
    response = pb.ModelInferResponse(
        model_name=answer.model,
        model_version=answer.version,
        id=answer.id,
        raw_output_contents=[
            join_bytes(output.items)
            if output.items is not None
            else raw_of(output.array, output.datatype)  # type: ignore[arg-type]
            for output in answer.outputs
        ],
    )
    parameters = response.parameters
    for key, value in answer.parameters.items():
        parameters[key].string_param = value
    outputs = response.outputs
    for output in answer.outputs:
        outputs.add(name=output.name, datatype=output.datatype, shape=output.shape)
    return response


def _tensor_metadata(tensor: TensorMetadata) -> pb.ModelMetadataResponse.TensorMetadata:
    return pb.ModelMetadataResponse.TensorMetadata(
        name=tensor.name, datatype=tensor.datatype, shape=tensor.shape
    )


class OipServicer(pb_grpc.GRPCInferenceServiceServicer):
    def __init__(self, service: InferenceService) -> None:
        self.service = service

    def ServerLive(self, request: Any, context: Context) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=True)

    def ServerReady(self, request: Any, context: Context) -> pb.ServerReadyResponse:
        return pb.ServerReadyResponse(ready=self.service.ready)

    def ModelReady(self, request: Any, context: Context) -> pb.ModelReadyResponse:
        ready = _answer(
            context,
            "ModelReady",
            lambda: model_ready(self.service, request.name, _version(request.version)),
        )
        return pb.ModelReadyResponse(ready=ready)

    def ServerMetadata(self, request: Any, context: Context) -> pb.ServerMetadataResponse:
        def metadata() -> dict[str, Any]:
            require_authenticated(self.service.settings.api_key)
            return server_metadata()

        return pb.ServerMetadataResponse(**_answer(context, "ServerMetadata", metadata))

    def ModelMetadata(self, request: Any, context: Context) -> pb.ModelMetadataResponse:
        found = _answer(
            context,
            "ModelMetadata",
            lambda: model_metadata(self.service, request.name, _version(request.version)),
        )
        tensor = pb.ModelMetadataResponse.TensorMetadata
        return pb.ModelMetadataResponse(
            name=found.name,
            versions=found.versions,
            platform=found.platform,
            inputs=[tensor(name=t.name, datatype=t.datatype, shape=t.shape) for t in found.inputs],
            outputs=[
                tensor(name=t.name, datatype=t.datatype, shape=t.shape) for t in found.outputs
            ],
        )

    def ModelInfer(self, request: Any, context: Context) -> pb.ModelInferResponse:
        answer = _answer(
            context, "ModelInfer", lambda: infer(self.service, decode_request(request))
        )
        return encode_answer(answer)


def serve(service: InferenceService, listen: Listen) -> None:
    def register(server: grpc.Server) -> str:
        pb_grpc.add_GRPCInferenceServiceServicer_to_server(OipServicer(service), server)  # type: ignore[no-untyped-call]
        return SERVICE_NAME

    run_server(service, listen, "oip-grpc", register)
