"""Drive an Open Inference Protocol server with Triton's own client, unchanged and with its
defaults, and print what it saw as JSON: ``python -m tests.servers.oip.triton_driver
http|grpc HOST:PORT``.

A separate process because ``tritonclient.grpc`` registers the ``inference.*`` protobuf messages
from its own copy of the proto, and a process can hold only one definition of each.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
from sklearn.datasets import load_digits, load_iris

from protobench.core.images import features_to_png

ROWS = load_iris().data[::15]


def run(kind: str, target: str) -> dict[str, Any]:
    if kind == "http":
        import tritonclient.http as triton
    else:
        import tritonclient.grpc as triton  # type: ignore[no-redef]
    from tritonclient.utils import InferenceServerException

    client = triton.InferenceServerClient(target)
    seen: dict[str, Any] = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready("iris"),
        "version_ready": client.is_model_ready("iris", "1"),
    }
    metadata = client.get_server_metadata()
    model = client.get_model_metadata("iris")
    if kind == "grpc":  # protobuf messages; the HTTP client already answers dicts
        from google.protobuf.json_format import MessageToDict

        metadata = MessageToDict(metadata, preserving_proto_field_name=True)
        model = MessageToDict(model, preserving_proto_field_name=True)
    seen["server_metadata"], seen["model_metadata"] = metadata, model

    features = triton.InferInput("features", list(ROWS.shape), "FP64")
    features.set_data_from_numpy(ROWS)  # binary by default over HTTP, raw over gRPC
    answer = client.infer("iris", [features])
    seen["labels"] = [label.decode() for label in answer.as_numpy("label")]
    seen["probabilities"] = answer.as_numpy("probabilities").tolist()
    seen["version_1_labels"] = [
        label.decode()
        for label in client.infer(
            "iris", [features], model_version="1", outputs=[triton.InferRequestedOutput("label")]
        ).as_numpy("label")
    ]

    single = triton.InferInput("features", [1, 4], "FP32")
    single.set_data_from_numpy(ROWS[:1].astype(np.float32))
    seen["fp32_label"] = client.infer("iris", [single]).as_numpy("label")[0].decode()

    image = triton.InferInput("image", [1], "BYTES")
    image.set_data_from_numpy(np.array([features_to_png(load_digits().data[0])], dtype=object))
    seen["image_label"] = client.infer("digits", [image]).as_numpy("label")[0].decode()

    errors = {}
    for name, call in {
        "unknown_model": lambda: client.infer("nope", [features]),
        "unknown_version": lambda: client.infer("iris", [features], model_version="9"),
        "wrong_input": lambda: client.infer("digits", [features]),
    }.items():
        try:
            call()
            errors[name] = None
        except InferenceServerException as exc:
            errors[name] = {"status": str(exc.status()), "message": exc.message()}
    seen["errors"] = errors
    return seen


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], sys.argv[2])))
