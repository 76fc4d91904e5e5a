"""Call protobench's Thrift service with thriftpy2, which reads the IDL at run time.

    python thrift_thriftpy2.py 127.0.0.1:9090

Start the server first: protobench serve --protocol thrift --port 9090

Nothing is generated or copied: thriftpy2 loads the repository's
proto/protobench/v1/inference.thrift and builds the structs and the client from it
(pip install thriftpy2).
"""

import sys
from pathlib import Path

import thriftpy2
from thriftpy2.protocol import TCompactProtocolFactory
from thriftpy2.rpc import make_client

IDL = Path(__file__).resolve().parents[2] / "proto" / "protobench" / "v1" / "inference.thrift"


def main(target: str) -> None:
    host, _, port = target.rpartition(":")
    idl = thriftpy2.load(str(IDL), module_name="inference_thrift")
    # Binary protocol over a buffered transport: thriftpy2's defaults, and the server's.
    client = make_client(idl.InferenceService, host, int(port), timeout=10_000)
    try:
        flower = [5.1, 3.5, 1.4, 0.2]
        request = idl.PredictRequest(model="iris", instances=[idl.Instance(features=flower)])
        answer = client.Predict(request)
        print(f"Predict {flower} -> {answer.predictions[0].label} (version {answer.version})")

        meta = client.GetModel(idl.GetModelRequest(name="iris"))
        print(f"GetModel iris -> labels {meta.labels}, input shape {meta.input.shape}")

        # Errors are the IDL's InferenceError, its code the same on every protocol.
        try:
            client.Predict(
                idl.PredictRequest(model="iris", instances=[idl.Instance(features=[1.0])])
            )
        except idl.InferenceError as error:
            print(f"Predict with 1 feature -> InferenceError {error.code}: {error.message}")
    finally:
        client.close()

    # The compact protocol: smaller messages; the server tells it apart by its first byte.
    compact = make_client(
        idl.InferenceService,
        host,
        int(port),
        timeout=10_000,
        proto_factory=TCompactProtocolFactory(),
    )
    try:
        health = compact.Health(idl.HealthRequest())
        print(f"Health (compact protocol) -> ready {health.ready}, served by {health.served_by}")
    finally:
        compact.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python thrift_thriftpy2.py HOST:PORT")
    main(sys.argv[1])
