"""Call protobench's GraphQL API with `httpx` alone: a GraphQL request is an HTTP POST of JSON.

    python graphql_httpx.py 127.0.0.1:8100

Start the server first: protobench serve --protocol graphql --port 8100
"""

import sys

import httpx

# The query names its variables; the values travel apart, as JSON, so nothing is pasted into text.
PREDICT = """
query Predict($rows: [[Float!]!]!) {
  predict(model: "iris", instances: $rows) {
    model version servedBy
    predictions { label probabilities }
  }
}
"""

# Field selection: ask only for the labels. The server then computes no probabilities at all.
LABELS_ONLY = """
query Labels($rows: [[Float!]!]!) {
  predict(model: "iris", instances: $rows) { predictions { label } }
}
"""


def graphql(http: httpx.Client, query: str, variables: dict) -> dict:
    """POST one operation; GraphQL answers 200 with `data` and/or `errors` in the body."""
    response = http.post("/graphql", json={"query": query, "variables": variables})
    response.raise_for_status()
    return response.json()


def main(target: str) -> None:
    with httpx.Client(base_url=f"http://{target}", timeout=10) as http:
        flower = [5.1, 3.5, 1.4, 0.2]
        answer = graphql(http, PREDICT, {"rows": [flower]})["data"]["predict"]
        first = answer["predictions"][0]
        print(f"predict {flower} -> {first['label']} (version {answer['version']}, served by")
        print(f"  {answer['servedBy']}, probabilities {first['probabilities']})")

        rows = [flower, [6.7, 3.0, 5.2, 2.3]]
        labels = graphql(http, LABELS_ONLY, {"rows": rows})["data"]["predict"]["predictions"]
        print(f"labels only, {len(rows)} rows -> {[p['label'] for p in labels]}, no probabilities")

        # A mistake in the input: the error sits in errors[], its code in extensions.code.
        wrong = graphql(http, PREDICT, {"rows": [[1.0, 2.0, 3.0]]})
        error = wrong["errors"][0]
        code = error["extensions"]["code"]
        print(f"predict with 3 features -> errors[0].extensions.code = {code}: {error['message']}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python graphql_httpx.py HOST:PORT")
    main(sys.argv[1])
