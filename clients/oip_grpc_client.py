"""Open Inference Protocol (V2) gRPC client: ``inference.GRPCInferenceService`` on one channel.

Like Triton's own client, it sends the features in ``raw_input_contents`` and reads answers from
``raw_output_contents``. The model's input name comes from its metadata, read once per model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import grpc
import numpy as np

from clients.grpc_client import open_channel, rpc_error
from clients.oip_common import (
    IMAGE_INPUT,
    LABEL,
    PROBABILITIES,
    OipClient,
    features,
    predict_response,
)
from clients.probe import IRIS_ROW, Probe, Verdict, padded_protobuf
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

    def __init__(self, target: str, *, timeout: float = 10.0, **options: Any) -> None:
        super().__init__(target, timeout=timeout)
        self._channel, self._metadata = open_channel(target, **options)
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
            metadata = self._call(self._stub.ModelMetadata, pb.ModelMetadataRequest(name=model))
            self._inputs[model] = metadata.inputs[0].name
        return self._inputs[model]

    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        x = features(instances)
        tensor = pb.ModelInferRequest.InferInputTensor(
            name=self._input_name(model), datatype="FP64", shape=list(x.shape)
        )
        return self._infer(model, version, tensor, x.astype("<f8").tobytes(), caller)

    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse:
        tensor = pb.ModelInferRequest.InferInputTensor(
            name=IMAGE_INPUT, datatype="BYTES", shape=[1]
        )
        return self._infer(model, version, tensor, join_bytes([image]), None)

    def _infer(
        self, model: str, version: str | None, tensor: Any, raw: bytes, caller: str | None
    ) -> PredictResponse:
        request = pb.ModelInferRequest(
            model_name=model, model_version=version or "", inputs=[tensor], raw_input_contents=[raw]
        )
        if caller is not None:
            request.parameters["caller"].string_param = caller
        answer = self._call(self._stub.ModelInfer, request)
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

    def close(self) -> None:
        self._channel.close()


class OipGrpcProbe(Probe):
    """Raw ModelInfer messages for the hardening tests (``clients.probe``)."""

    body_format = "protobuf"
    method = "/inference.GRPCInferenceService/ModelInfer"

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
