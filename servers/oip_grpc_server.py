"""Open Inference Protocol (V2) over gRPC: ``inference.GRPCInferenceService`` (the spec's proto,
proto/protobench/v1/open_inference.proto) on the same grpcio server set-up as ``grpc``.

Inputs are read from ``raw_input_contents`` when present, else from each input's typed
``contents``; answers always go in ``raw_output_contents`` (what Triton's client reads).
Errors are the gRPC status of the core code (``GRPC_STATUS``), its message as the details.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, TypeVar

import grpc
import numpy as np

from protobench.core.auth import require_authenticated
from protobench.core.errors import CoreError
from protobench.core.service import InferenceService
from protobench.core.types import PredictAnswer
from protobench.oip_tensors import (
    BYTES,
    NUMERIC,
    Tensor,
    check_header,
    from_raw,
    from_values,
    invalid,
    join_bytes,
)
from protobench.v1 import open_inference_pb2 as pb
from protobench.v1 import open_inference_pb2_grpc as pb_grpc
from servers.adapter_common import INTERNAL_MESSAGE
from servers.grpc_server import run_server
from servers.grpc_servicer import status_of
from servers.listen import Listen
from servers.oip_infer import (
    CALLER_PARAMETER,
    LABEL,
    OUTPUTS,
    PREDICTION_PARAMETERS,
    PROBABILITIES,
    Call,
    InferRequest,
    TensorMetadata,
    model_metadata,
    model_ready,
    plan,
    predict,
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

FP64 = NUMERIC["FP64"]
PREDICTION_ID, SERVED_BY, ARM = PREDICTION_PARAMETERS
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


def _tensor(tensor: pb.ModelInferRequest.InferInputTensor, raw: bytes | None) -> Tensor:
    name, datatype, shape = check_header(tensor.name, tensor.datatype, tensor.shape[:])
    if raw is None:
        field = CONTENTS.get(datatype)
        if field is None:
            raise invalid(
                f"input {name!r}: {datatype} has no typed contents field; send it in "
                "raw_input_contents",
                input=name,
            )
        return from_values(name, datatype, shape, list(getattr(tensor.contents, field)))
    if tensor.HasField("contents"):
        raise invalid(f"input {name!r}: contents and raw_input_contents both given")
    return from_raw(name, datatype, shape, raw)


def decode_inputs(request: pb.ModelInferRequest) -> list[Tensor]:
    # By index: iterating upb's repeated fields (zip, a for loop) cost 3 µs more per request.
    raw, inputs = request.raw_input_contents, request.inputs
    count = len(inputs)
    if not raw:
        return [_tensor(inputs[i], None) for i in range(count)]
    if len(raw) != count:
        raise invalid(f"{len(raw)} raw_input_contents for {count} inputs")
    return [_tensor(inputs[i], raw[i]) for i in range(count)]


def _caller(parameters: Mapping[str, pb.InferParameter]) -> str | None:
    caller = parameters.get(CALLER_PARAMETER)
    if caller is None:
        return None
    if caller.WhichOneof("parameter_choice") != "string_param":
        raise invalid("the 'caller' parameter must be a string")
    return caller.string_param


def decode_request(request: pb.ModelInferRequest) -> InferRequest:
    parameters, outputs = request.parameters, request.outputs
    return InferRequest(
        request.model_name,
        request.model_version or None,
        decode_inputs(request),
        [output.name for output in outputs] if outputs else [],
        request.id,
        _caller(parameters) if parameters else None,
    )


@lru_cache(maxsize=256)
def _label_bytes(label: str) -> bytes:
    """A label in the raw BYTES form (length, then UTF-8): a model has few labels."""
    return join_bytes([label.encode()])


@lru_cache(maxsize=256)
def _fixed_part(
    model: str, version: str, outputs: tuple[str, ...], shapes: tuple[int, int], served_by: str,
    arm: str,
) -> bytes:  # fmt: skip
    """What an answer shares with every other of its model, version, outputs, batch size and
    arm, serialised: building these fields costs several times more than merging their bytes."""
    batch, n_labels = shapes
    response = pb.ModelInferResponse(model_name=model, model_version=version)
    for name in outputs:
        if name == LABEL:
            response.outputs.add(name=LABEL, datatype=BYTES, shape=(batch,))
        else:
            response.outputs.add(name=PROBABILITIES, datatype="FP64", shape=(batch, n_labels))
    response.parameters[SERVED_BY].string_param = served_by
    response.parameters[ARM].string_param = arm
    return bytes(response.SerializeToString())


def encode_response(call: Call, answer: PredictAnswer) -> pb.ModelInferResponse:
    """The answer with every output in ``raw_output_contents`` (FP64 little-endian, BYTES with
    length prefixes) and its ``prediction_id``, ``served_by`` and ``arm`` parameters."""
    labels, rows = answer.labels, answer.probabilities
    wanted = tuple(call.request.outputs) or OUTPUTS
    n_labels = 0
    raw = []
    for name in wanted:
        if name == LABEL:
            raw.append(b"".join([_label_bytes(label) for label in labels]))
        else:
            n_labels = len(rows[0])  # the core answers one row at least
            raw.append(np.array(rows, dtype=FP64).tobytes())
    response = pb.ModelInferResponse(id=call.request.id, raw_output_contents=raw)
    response.parameters[PREDICTION_ID].string_param = answer.prediction_id  # new every call
    response.MergeFromString(
        _fixed_part(
            answer.model, answer.version, wanted, (len(labels), n_labels), answer.served_by,
            answer.arm,
        )
    )  # fmt: skip
    return response


def infer(service: InferenceService, request: pb.ModelInferRequest) -> pb.ModelInferResponse:
    call = plan(service, decode_request(request))
    return encode_response(call, predict(service, call))


def _version(value: str) -> str | None:
    return value or None


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
        return pb.ModelMetadataResponse(
            name=found.name,
            versions=found.versions,
            platform=found.platform,
            inputs=[_tensor_metadata(t) for t in found.inputs],
            outputs=[_tensor_metadata(t) for t in found.outputs],
        )

    def ModelInfer(self, request: Any, context: Context) -> pb.ModelInferResponse:
        return _answer(context, "ModelInfer", lambda: infer(self.service, request))


def serve(service: InferenceService, listen: Listen) -> None:
    def register(server: grpc.Server) -> str:
        pb_grpc.add_GRPCInferenceServiceServicer_to_server(OipServicer(service), server)  # type: ignore[no-untyped-call]
        return SERVICE_NAME

    run_server(service, listen, "oip-grpc", register)
