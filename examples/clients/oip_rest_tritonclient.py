"""Call protobench's Open Inference Protocol (V2) REST endpoint with Triton's own client.

    python oip_rest_tritonclient.py 127.0.0.1:8300

Start the server first: protobench serve --protocol oip-rest --port 8300
(pip install 'tritonclient[http]' numpy). The same script works against Triton or MLServer
serving a model with these tensor names: that is the point of a standard protocol.
"""

import sys

import numpy as np
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException


def main(target: str) -> None:
    client = triton.InferenceServerClient(target)
    print(f"live {client.is_server_live()}, ready {client.is_server_ready()}, "
          f"iris ready {client.is_model_ready('iris')}")  # fmt: skip

    # Metadata: the model's named, typed tensors; -1 is the batch dimension.
    metadata = client.get_model_metadata("iris")
    for side in ("inputs", "outputs"):
        tensors = [f"{t['name']} {t['datatype']} {t['shape']}" for t in metadata[side]]
        print(f"{side}: {', '.join(tensors)}")

    # Inference: one input tensor of shape [1, 4]. tritonclient.http sends it as raw bytes after
    # the JSON header (the binary tensor extension) and asks for binary outputs: no floats as text.
    flower = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float64)
    features = triton.InferInput("features", list(flower.shape), "FP64")
    features.set_data_from_numpy(flower)
    answer = client.infer("iris", [features])
    label = answer.as_numpy("label")[0].decode()
    probabilities = answer.as_numpy("probabilities")[0]
    print(f"infer {flower[0].tolist()} -> {label} {np.round(probabilities, 4).tolist()}")

    # Ask for one output only: the server then skips the probabilities entirely.
    only_label = [triton.InferRequestedOutput("label")]
    answer = client.infer("iris", [features], model_version="1", outputs=only_label)
    print(f"version 1, label only -> {answer.as_numpy('label')[0].decode()}")

    # An error: the server's {"error": ...} body becomes an InferenceServerException.
    try:
        client.infer("no-such-model", [features])
    except InferenceServerException as error:
        print(f"unknown model -> HTTP {error.status()}: {error.message()}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python oip_rest_tritonclient.py HOST:PORT")
    main(sys.argv[1])
