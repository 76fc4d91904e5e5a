"""Call protobench's SOAP service with zeep, from the WSDL the server publishes.

    python soap_zeep.py 127.0.0.1:8400

Start the server first: protobench serve --protocol soap --port 8400

zeep reads /soap?wsdl and builds every envelope from it: nothing about the service is written
here but operation and field names (pip install zeep).
"""

import sys

import zeep
from zeep.exceptions import Fault


def main(target: str) -> None:
    client = zeep.Client(f"http://{target}/soap?wsdl")

    flower = [5.1, 3.5, 1.4, 0.2]
    answer = client.service.Predict(model="iris", instances=[{"features": flower}])
    print(f"Predict {flower} -> {answer.predictions[0].label} (version {answer.version})")

    meta = client.service.GetModel(name="iris")
    print(f"GetModel iris -> labels {list(meta.labels)}, versions {list(meta.versions)}")

    # A Fault: soap:Client (our mistake) or soap:Server (theirs); the detail holds the code.
    try:
        client.service.GetModel(name="no-such-model")
    except Fault as fault:
        print(f"GetModel no-such-model -> Fault {fault.code}: {fault.message} "
              f"(code {fault.detail.findtext('code')})")  # fmt: skip

    # What the envelope looked like: zeep can build it without sending.
    envelope = client.create_message(client.service, "Health")
    print(f"Health envelope root: {envelope.tag}")
    print(f"Health -> ready {client.service.Health().ready}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python soap_zeep.py HOST:PORT")
    main(sys.argv[1])
