"""Call protobench's Open Inference Protocol (V2) gRPC service with Triton's own client.

    python oip_grpc_tritonclient.py 127.0.0.1:50061

Start the server first: protobench serve --protocol oip-grpc --port 50061
(pip install 'tritonclient[grpc]' numpy). The service is the specification's
inference.GRPCInferenceService; tritonclient ships its own stubs for it.
"""

import sys

import numpy as np
import tritonclient.grpc as triton
from tritonclient.utils import InferenceServerException


def main(target: str) -> None:
    client = triton.InferenceServerClient(target)
    print(f"live {client.is_server_live()}, ready {client.is_server_ready()}, "
          f"iris ready {client.is_model_ready('iris')}")  # fmt: skip

    # ModelMetadata answers a protobuf message: named, typed tensors, -1 for the batch.
    metadata = client.get_model_metadata("iris")
    for side, tensors in (("inputs", metadata.inputs), ("outputs", metadata.outputs)):
        print(f"{side}: {', '.join(f'{t.name} {t.datatype} {list(t.shape)}' for t in tensors)}")

    # ModelInfer: the tensor travels as raw little-endian bytes (raw_input_contents), and the
    # answer comes back in raw_output_contents, which as_numpy turns into arrays.
    flower = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float64)
    features = triton.InferInput("features", list(flower.shape), "FP64")
    features.set_data_from_numpy(flower)
    answer = client.infer("iris", [features], client_timeout=5.0)  # a deadline, in seconds
    label = answer.as_numpy("label")[0].decode()
    probabilities = answer.as_numpy("probabilities")[0]
    print(f"infer {flower[0].tolist()} -> {label} {np.round(probabilities, 4).tolist()}")

    # A batch of two rows in one call: the first dimension is the batch.
    rows = np.array([[6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]], dtype=np.float64)
    batch = triton.InferInput("features", list(rows.shape), "FP64")
    batch.set_data_from_numpy(rows)
    labels = [v.decode() for v in client.infer("iris", [batch]).as_numpy("label")]
    print(f"batch of {len(rows)} -> {labels}")

    # An error status: INVALID_ARGUMENT, NOT_FOUND, ... with the server's message.
    try:
        client.infer("no-such-model", [features])
    except InferenceServerException as error:
        print(f"unknown model -> {error.status()}: {error.message()}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python oip_grpc_tritonclient.py HOST:PORT")
    main(sys.argv[1])
