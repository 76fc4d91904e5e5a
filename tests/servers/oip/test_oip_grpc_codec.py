"""The OIP gRPC adapter's ModelInfer, in process: raw and typed inputs give the same answer,
every field of the answer is there for every batch size and output choice (the fixed part of
an answer is cached per model, version, outputs, batch size and arm), and what cannot be
decoded is the caller's input."""

from __future__ import annotations

import numpy as np
import pytest

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.oip_tensors import split_bytes
from protobench.v1 import open_inference_pb2 as pb
from servers.oip_grpc_server import infer

pytestmark = pytest.mark.oip_grpc

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]


def _request(
    rows: list[list[float]], raw: bool, outputs: tuple[str, ...] = ()
) -> pb.ModelInferRequest:
    tensor = pb.ModelInferRequest.InferInputTensor(
        name="features", datatype="FP64", shape=[len(rows), 4]
    )
    request = pb.ModelInferRequest(model_name="iris", model_version="1", id="call-7")
    request.inputs.append(tensor)
    if raw:
        request.raw_input_contents.append(np.asarray(rows, dtype="<f8").tobytes())
    else:
        request.inputs[0].contents.fp64_contents.extend(np.ravel(rows).tolist())
    for name in outputs:
        request.outputs.add(name=name)
    return pb.ModelInferRequest.FromString(request.SerializeToString())


def _outputs(response: pb.ModelInferResponse) -> dict[str, tuple[str, list[int], bytes]]:
    return {
        o.name: (o.datatype, list(o.shape), raw)
        for o, raw in zip(response.outputs, response.raw_output_contents, strict=True)
    }


@pytest.mark.parametrize("batch", [1, 3, 2, 1])  # 1 again: the cached fixed part of batch 1
def test_raw_and_typed_inputs_answer_alike_with_every_field(
    service: InferenceService, batch: int
) -> None:
    rows = ROWS[:batch]
    expected = service.predict("iris", rows, "1")
    answers = [infer(service, _request(rows, raw)) for raw in (True, False)]
    for response in answers:
        assert (response.model_name, response.model_version, response.id) == ("iris", "1", "call-7")
        outputs = _outputs(response)
        assert list(outputs) == ["label", "probabilities"]
        datatype, shape, raw = outputs["label"]
        assert (datatype, shape) == ("BYTES", [batch])
        assert split_bytes("label", raw) == [p.label.encode() for p in expected.predictions]
        datatype, shape, raw = outputs["probabilities"]
        assert (datatype, shape) == ("FP64", [batch, 3])
        probabilities = np.frombuffer(raw, dtype="<f8").reshape(batch, 3).tolist()
        assert probabilities == [p.probabilities for p in expected.predictions]
        parameters = {k: v.string_param for k, v in response.parameters.items()}
        assert set(parameters) == {"prediction_id", "served_by", "arm"}
        assert parameters["served_by"] == expected.served_by
        assert parameters["arm"] == expected.arm
    ids = {response.parameters["prediction_id"].string_param for response in answers}
    assert len(ids) == 2  # a new prediction id on every call, cache or not


@pytest.mark.parametrize("outputs", [("label",), ("probabilities",), ("probabilities", "label")])
def test_the_outputs_asked_for_in_their_order(
    service: InferenceService, outputs: tuple[str, ...]
) -> None:
    response = infer(service, _request(ROWS[:2], True, outputs))
    assert tuple(_outputs(response)) == outputs


def _typed(datatype: str, field: str, values: list[object]) -> pb.ModelInferRequest:
    tensor = pb.ModelInferRequest.InferInputTensor(name="features", datatype=datatype, shape=[1, 4])
    getattr(tensor.contents, field).extend(values)
    return pb.ModelInferRequest(model_name="iris", inputs=[tensor])


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (_typed("FP16", "fp32_contents", [1.0, 2.0, 3.0, 4.0]), "no typed contents field"),
        (_typed("INT8", "int_contents", [1000, 1, 1, 1]), "does not fit INT8"),
        (_typed("FP64", "fp64_contents", [1.0, 2.0, 3.0]), "holds 4 elements"),
    ],
)
def test_undecodable_inputs_are_the_callers(
    service: InferenceService, request_: pb.ModelInferRequest, message: str
) -> None:
    with pytest.raises(CoreError) as refused:
        infer(service, request_)
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert message in refused.value.message
