"""Call protobench's gRPC service with grpcio and stubs generated from proto/.

    python grpc_stubs.py 127.0.0.1:50051

Start the server first: protobench serve --protocol grpc --port 50051

The stubs are not copied here: the script runs `python -m grpc_tools.protoc` on the repository's
proto/protobench/v1/inference.proto into a temporary folder and imports them from there, so the
code always matches the contract the server was built from (grpcio-tools: pip install grpcio-tools).
"""

import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

PROTO_ROOT = Path(__file__).resolve().parents[2] / "proto"


def generate_stubs(folder: Path):
    """protoc -> inference_pb2.py (messages) and inference_pb2_grpc.py (stubs) in ``folder``."""
    contract = PROTO_ROOT / "protobench" / "v1"
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{contract}", f"--python_out={folder}",
         f"--grpc_python_out={folder}", "inference.proto"],
        check=True,
    )  # fmt: skip
    sys.path.insert(0, str(folder))
    return importlib.import_module("inference_pb2"), importlib.import_module("inference_pb2_grpc")


def main(target: str, folder: Path) -> None:
    pb, pb_grpc = generate_stubs(folder)
    with grpc.insecure_channel(target) as channel:
        # The standard health service: any gRPC tool can ask it.
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(health.status)
        print(f"grpc.health.v1 Check -> {status}")

        stub = pb_grpc.InferenceServiceStub(channel)
        # A unary call with a deadline: the server gives up too once 2 s have passed.
        flower = [5.1, 3.5, 1.4, 0.2]
        request = pb.PredictRequest(model="iris", instances=[pb.Instance(features=flower)])
        answer = stub.Predict(request, timeout=2.0)
        print(f"Predict {flower} -> {answer.predictions[0].label} "
              f"(version {answer.version}, served by {answer.served_by})")  # fmt: skip

        # A bidirectional stream: many requests on one call, one answer each, in order.
        # The middle one is wrong (3 features); it gets its own error and the stream goes on.
        rows = [flower, [1.0, 2.0, 3.0], [6.7, 3.0, 5.2, 2.3]]
        requests = (
            pb.PredictRequest(model="iris", instances=[pb.Instance(features=r)]) for r in rows
        )
        for row, item in zip(rows, stub.PredictStream(requests, timeout=5.0), strict=True):
            if item.HasField("error"):
                print(f"PredictStream {row} -> error {item.error.code}: {item.error.message}")
            else:
                print(f"PredictStream {row} -> {item.response.predictions[0].label}")

        # An error status: the code, the message, and the details in the trailing metadata.
        try:
            stub.Predict(pb.PredictRequest(model="no-such-model", instances=[request.instances[0]]))
        except grpc.RpcError as error:
            details = dict(error.trailing_metadata() or ()).get("protobench-error-details")
            print(
                f"Predict on an unknown model -> {error.code().name}: {error.details()} {details}"
            )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python grpc_stubs.py HOST:PORT")
    with tempfile.TemporaryDirectory() as temporary:
        main(sys.argv[1], Path(temporary))
