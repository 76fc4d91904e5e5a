"""Open Inference Protocol (V2) gRPC client: ``inference.GRPCInferenceService`` on one channel.

Like Triton's own client, it sends the features in ``raw_input_contents`` and reads answers from
``raw_output_contents``. The model's input name comes from its metadata, read once per model.
Prepared calls (load tests) go over the client's lean channel (``transport="h2c"`` under Locust):
the request serialised once, the answer checked for a label per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc
import numpy as np

from clients.base import ClientError, Prepared
from clients.grpc_client import GrpcTransport, LeanChannel, open_channel, rpc_error
from clients.oip_common import (
    IMAGE_INPUT,
    LABEL,
    PROBABILITIES,
    UNKNOWN_MODEL_INPUT,
    OipClient,
    features,
    predict_response,
)
from clients.probe import IRIS_ROW, Probe, Verdict, padded_protobuf
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.types import Health, PredictResponse
from protobench.oip_tensors import join_bytes, split_bytes
from protobench.v1 import open_inference_pb2 as pb
from protobench.v1 import open_inference_pb2_grpc as pb_grpc
from servers.grpc_spec import GRPC_STATUS


def _parameters(message: Any) -> dict[str, object]:
    return {
        key: getattr(value, value.WhichOneof("parameter_choice") or "string_param")
        for key, value in message.parameters.items()
    }


class OipGrpcClient(OipClient):
    protocol = "oip-grpc"

    def __init__(self, target: str, *, timeout: float = 10.0, transport: GrpcTransport = "grpcio",
                 **options: Any) -> None:  # fmt: skip
        """``options`` are ``open_channel``'s; ``transport`` carries prepared calls."""
        super().__init__(target, timeout=timeout)
        self._channel, self._metadata = open_channel(target, **options)
        self._lean = LeanChannel(self._channel, self._metadata, transport, target, timeout,
                                 tls=options.get("tls_ca") is not None)  # fmt: skip
        self._stub = pb_grpc.GRPCInferenceServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._inputs: dict[str, str] = {}

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self.timeout, metadata=self._metadata)
        except grpc.RpcError as exc:
            raise rpc_error(exc, self.target, self.timeout) from None

    def health(self) -> Health:
        live = self._call(self._stub.ServerLive, pb.ServerLiveRequest()).live
        ready = self._call(self._stub.ServerReady, pb.ServerReadyRequest()).ready
        return Health(live=live, ready=ready, served_by="", models=[])

    def _input_name(self, model: str) -> str:
        if model not in self._inputs:
            request = pb.ModelMetadataRequest(name=model)
            try:
                metadata = self._call(self._stub.ModelMetadata, request)
            except ClientError as error:
                if error.code is not ErrorCode.NOT_FOUND:
                    raise
                # no such model: any name will do, the server says NOT_FOUND when it is sent
                return UNKNOWN_MODEL_INPUT
            self._inputs[model] = metadata.inputs[0].name
        return self._inputs[model]

    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        request = self._predict_request(model, instances, version, caller)
        return self._answer(self._call(self._stub.ModelInfer, request))

    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse:
        return self._answer(
            self._call(self._stub.ModelInfer, self._predict_image_request(model, image, version))
        )

    def _predict_request(self, model: str, instances: Sequence[Sequence[float]],
                         version: str | None = None, caller: str | None = None) -> Any:  # fmt: skip
        x = features(instances)
        tensor = pb.ModelInferRequest.InferInputTensor(
            name=self._input_name(model), datatype="FP64", shape=list(x.shape)
        )
        return _infer_request(model, version, tensor, x.astype("<f8").tobytes(), caller)

    @staticmethod
    def _predict_image_request(model: str, image: bytes, version: str | None = None) -> Any:
        tensor = pb.ModelInferRequest.InferInputTensor(
            name=IMAGE_INPUT, datatype="BYTES", shape=[1]
        )
        return _infer_request(model, version, tensor, join_bytes([image]), None)

    @staticmethod
    def _answer(answer: Any) -> PredictResponse:
        tensors: dict[str, Any] = {}
        for output, raw_output in zip(answer.outputs, answer.raw_output_contents, strict=True):
            tensors[output.name] = (
                split_bytes(output.name, raw_output)
                if output.datatype == "BYTES"
                else np.frombuffer(raw_output, dtype="<f8").reshape(tuple(output.shape))
            )
        return predict_response(
            answer.model_name,
            answer.model_version,
            _parameters(answer),
            tensors[LABEL],
            tensors.get(PROBABILITIES),
        )

    def prepare(self, operation: str, **arguments: Any) -> Prepared:
        """Inference serialised once and sent as bytes; the answer is checked for a label per
        row rather than converted to core types."""
        encoders: dict[str, Callable[..., Any]] = {
            "predict": self._predict_request,
            "predict_image": self._predict_image_request,
        }
        encode = encoders.get(operation)
        if encode is None:
            return super().prepare(operation, **arguments)
        data = encode(**arguments).SerializeToString()
        rpc = self._lean.unary(INFER_PATH)

        def send() -> object:
            reply = pb.ModelInferResponse.FromString(rpc(data))
            if not _labelled(reply):
                raise ClientError(ErrorCode.INTERNAL, f"{operation}: unexpected answer {reply}")
            return reply

        return send

    def close(self) -> None:
        self._lean.close()
        self._channel.close()


INFER_PATH = "/inference.GRPCInferenceService/ModelInfer"


def _infer_request(model: str, version: str | None, tensor: Any, raw: bytes,
                   caller: str | None) -> Any:  # fmt: skip
    request = pb.ModelInferRequest(
        model_name=model, model_version=version or "", inputs=[tensor], raw_input_contents=[raw]
    )
    if caller is not None:
        request.parameters["caller"].string_param = caller
    return request


def _labelled(reply: Any) -> bool:
    """A label tensor with one non-empty label per row."""
    for output, raw in zip(reply.outputs, reply.raw_output_contents, strict=False):
        if output.name == LABEL:
            try:
                labels = split_bytes(LABEL, raw)
            except CoreError:
                return False
            return bool(labels) and all(labels)
    return False


class OipGrpcProbe(Probe):
    """Raw ModelInfer messages for the hardening tests (``clients.probe``)."""

    body_format = "protobuf"
    method = INFER_PATH

    def __init__(self, target: str, *, timeout: float = 30.0) -> None:
        super().__init__(target, timeout=timeout)
        self.channel = grpc.insecure_channel(target)

    def predict_body(self, rows: Any) -> bytes:
        x = np.asarray(rows, dtype=np.float64)
        tensor = pb.ModelInferRequest.InferInputTensor(
            name="features", datatype="FP64", shape=list(x.shape)
        )
        request = pb.ModelInferRequest(
            model_name="iris", inputs=[tensor], raw_input_contents=[x.tobytes()]
        )
        return bytes(request.SerializeToString())

    def send(self, body: bytes | Iterator[bytes]) -> Verdict:
        payload = body if isinstance(body, bytes) else b"".join(body)
        try:
            self.channel.unary_unary(self.method, None, None)(payload, timeout=self.timeout)
        except grpc.RpcError as exc:
            status: grpc.StatusCode = exc.code()
            return Verdict(status.name, [GRPC_STATUS.to_core(status.name)], exc.details() or "")
        return Verdict("OK")

    def padded(self, size: int) -> bytes:
        return padded_protobuf(self.predict_body([IRIS_ROW]), size)

    def close(self) -> None:
        self.channel.close()
