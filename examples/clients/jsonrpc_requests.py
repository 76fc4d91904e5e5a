"""Call protobench's JSON-RPC 2.0 API with `requests` alone: every call is a POST to /jsonrpc.

    python jsonrpc_requests.py 127.0.0.1:8200

Start the server first: protobench serve --protocol jsonrpc --port 8200
"""

import sys

import requests


def call(method: str, params: dict, id: int | None) -> dict:
    """One JSON-RPC request object; without an id it is a notification (no answer comes)."""
    request = {"jsonrpc": "2.0", "method": method, "params": params}
    if id is not None:
        request["id"] = id
    return request


def main(target: str) -> None:
    url = f"http://{target}/jsonrpc"
    with requests.Session() as http:
        flower = [5.1, 3.5, 1.4, 0.2]
        answer = http.post(url, json=call("predict", {"model": "iris", "instances": [flower]}, 1))
        result = answer.json()["result"]  # HTTP is 200; success or error is in the body
        print(f"predict {flower} -> {result['predictions'][0]['label']} "
              f"(version {result['version']}, served by {result['served_by']})")  # fmt: skip

        # A batch: several calls in one POST. Each is answered on its own, matched by id;
        # the bad one (3 features) gets an error and the others still succeed.
        batch = [
            call("predict", {"model": "iris", "instances": [[6.7, 3.0, 5.2, 2.3]]}, 2),
            call("predict", {"model": "iris", "instances": [[1.0, 2.0, 3.0]]}, 3),
            call("get_model", {"name": "digits"}, 4),
        ]
        for item in sorted(http.post(url, json=batch).json(), key=lambda a: a["id"]):
            if "error" in item:
                error = item["error"]
                print(f"batch id {item['id']} -> error {error['code']}: {error['message']}")
            else:
                print(f"batch id {item['id']} -> ok: {str(item['result'])[:70]}...")

        # A notification: no id, so the server answers nothing (HTTP 204).
        quiet = http.post(url, json=call("health", {}, None))
        print(f"notification health -> HTTP {quiet.status_code}, body {quiet.content!r}")

        # rpc.discover: the OpenRPC document describing every method.
        discover = http.post(url, json=call("rpc.discover", {}, 5)).json()["result"]
        print(f"rpc.discover -> OpenRPC {discover['openrpc']}, methods "
              f"{[m['name'] for m in discover['methods']]}")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python jsonrpc_requests.py HOST:PORT")
    main(sys.argv[1])
