"""What the Open Inference Protocol's REST and gRPC adapters share: an inference request in
decoded form, the one call into the core it becomes, the output tensors of the answer, and the
server and model metadata. Nothing here touches a wire format.

A model takes exactly one input tensor:
- its features, named as the model card says (iris ``features``, digits ``pixels``), of any
  numeric datatype, shape ``[batch, n_features]`` -> ``service.predict``;
- or, for an image model, ``image``: BYTES of shape ``[1]`` holding a PNG or JPEG ->
  ``service.predict_image``.
The answer has two outputs, or the ones the request names: ``label`` (BYTES ``[batch]``) and
``probabilities`` (FP64 ``[batch, n_labels]``, in the order of the model's labels). Asking for
``label`` alone skips the probabilities in the core. The answer's parameters carry what the
standard has no field for: ``prediction_id`` (for feedback), ``served_by`` and ``arm``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

import protobench
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.core.types import ModelMetadata, PredictAnswer, PredictResponse
from protobench.oip_tensors import BYTES, Tensor, invalid

SERVER_NAME = "protobench"
EXTENSIONS = ("binary_tensor_data",)  # HTTP's binary tensor extension (servers/oip_rest_server)
PLATFORM = "protobench_numpy"
IMAGE_INPUT = "image"
LABEL, PROBABILITIES = "label", "probabilities"
OUTPUTS = (LABEL, PROBABILITIES)
PREDICTION_PARAMETERS = ("prediction_id", "served_by", "arm")
CALLER_PARAMETER = "caller"  # optional request parameter: the A/B stickiness key


# Plain slotted dataclasses: several are made per request.
@dataclass(slots=True)
class InferRequest:
    model: str
    version: str | None
    inputs: list[Tensor]
    outputs: list[str] = field(default_factory=list)  # empty: every output
    id: str = ""
    caller: str | None = None


@dataclass(slots=True)
class OutputTensor:
    name: str
    datatype: str
    shape: tuple[int, ...]
    array: npt.NDArray[Any] | None = None  # numeric outputs
    items: list[bytes] | None = None  # BYTES outputs


@dataclass(slots=True)
class InferAnswer:
    model: str
    version: str
    id: str
    outputs: list[OutputTensor]
    parameters: dict[str, str]


@dataclass(slots=True)
class Call:
    """The core call an inference request becomes, checked before it runs."""

    request: InferRequest
    features: npt.NDArray[np.float64] | None
    image: bytes | None
    probabilities: bool


def plan(service: InferenceService, request: InferRequest) -> Call:
    """Check the request against the model's metadata and decide which core call answers it."""
    for name in request.outputs:
        if name not in OUTPUTS:
            raise invalid(
                f"unknown output {name!r}; the model's outputs are {', '.join(OUTPUTS)}",
                output=name,
            )
    probabilities = not request.outputs or PROBABILITIES in request.outputs
    if len(request.inputs) != 1:
        raise invalid(f"send exactly one input tensor, not {len(request.inputs)}")
    tensor = request.inputs[0]
    if tensor.name == IMAGE_INPUT:
        return Call(request, None, _image_of(tensor), probabilities)
    expected = _input_name(service, request.model)
    if expected is not None and tensor.name != expected:
        raise invalid(
            f"model {request.model!r} takes the input {expected!r}"
            + (f" (or {IMAGE_INPUT!r})" if expected == "pixels" else "")
            + f", not {tensor.name!r}",
            input=tensor.name,
        )
    if tensor.array is None or tensor.datatype == "BOOL":
        raise invalid(f"input {tensor.name!r} must be numeric, not {tensor.datatype}")
    if tensor.array.ndim != 2:
        raise invalid(
            f"input {tensor.name!r} must have the shape [batch, features], not "
            f"{list(tensor.shape)}",
            input=tensor.name,
        )
    return Call(request, tensor.array.astype(np.float64, copy=False), None, probabilities)


def _input_name(service: InferenceService, model: str) -> str | None:
    """The name of the model's features input (NOT_FOUND for an unknown model); None before
    the models are loaded, when the core answers NOT_READY itself."""
    if not service.ready:
        return None
    return service.registry.get(model).card.input.name


def _image_of(tensor: Tensor) -> bytes:
    if tensor.datatype != BYTES or tensor.items is None or len(tensor.items) != 1:
        raise invalid(f"input {IMAGE_INPUT!r} must be BYTES of shape [1]: one encoded image")
    return tensor.items[0]


async def ainfer(service: InferenceService, request: InferRequest) -> InferAnswer:
    call = plan(service, request)
    if call.image is not None:
        answer = await service.apredict_image(
            request.model, call.image, request.version, probabilities=call.probabilities
        )
    else:
        assert call.features is not None
        answer = await service.apredict(
            request.model,
            call.features,
            request.version,
            request.caller,
            probabilities=call.probabilities,
        )
    return encode(call, answer)


def predict(service: InferenceService, call: Call) -> PredictAnswer:
    """The core's answer to a planned call as plain values, for an adapter that writes its own
    wire format: a features call builds no pydantic answer to read back (under load, that
    model cost the gRPC adapter more than all its own decoding)."""
    request = call.request
    if call.image is not None:
        return PredictAnswer.of(
            service.predict_image(
                request.model, call.image, request.version, probabilities=call.probabilities
            )
        )
    assert call.features is not None
    return service.predict(
        request.model,
        call.features,
        request.version,
        request.caller,
        probabilities=call.probabilities,
        plain=True,
    )


def encode(call: Call, answer: PredictResponse) -> InferAnswer:
    wanted = call.request.outputs or list(OUTPUTS)
    batch = len(answer.predictions)
    outputs: list[OutputTensor] = []
    for name in wanted:
        if name == LABEL:
            labels = [p.label.encode() for p in answer.predictions]
            outputs.append(OutputTensor(LABEL, BYTES, (batch,), items=labels))
        else:
            proba = np.array([p.probabilities for p in answer.predictions], dtype=np.float64)
            outputs.append(OutputTensor(PROBABILITIES, "FP64", proba.shape, array=proba))
    parameters = {
        "prediction_id": answer.prediction_id,
        "served_by": answer.served_by,
        "arm": answer.arm,
    }
    return InferAnswer(answer.model, answer.version, call.request.id, outputs, parameters)


@dataclass(frozen=True)
class TensorMetadata:
    name: str
    datatype: str
    shape: list[int]


@dataclass(frozen=True)
class ModelDescription:
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


def describe(metadata: ModelMetadata) -> ModelDescription:
    """The model's OIP metadata: its features input (FP64, -1 for the batch) and both outputs."""
    spec = metadata.input
    return ModelDescription(
        name=metadata.name,
        versions=metadata.versions,
        platform=PLATFORM,
        inputs=[TensorMetadata(spec.name, "FP64", list(spec.shape))],
        outputs=[
            TensorMetadata(LABEL, BYTES, [-1]),
            TensorMetadata(PROBABILITIES, "FP64", [-1, len(metadata.labels)]),
        ],
    )


def model_metadata(service: InferenceService, model: str, version: str | None) -> ModelDescription:
    metadata = service.get_model(model)
    if version is not None and version not in metadata.versions:
        raise CoreError(
            ErrorCode.NOT_FOUND,
            f"model {model!r} has no version {version!r}; it has {', '.join(metadata.versions)}",
            {"model": model, "version": version},
        )
    return describe(metadata)


def model_ready(service: InferenceService, model: str, version: str | None) -> bool:
    """Whether the model (and version) can answer now; an unknown model is NOT_FOUND."""
    if not service.ready:
        return False
    model_metadata(service, model, version)
    return True


def server_metadata() -> dict[str, Any]:
    return {"name": SERVER_NAME, "version": protobench.__version__, "extensions": EXTENSIONS}
