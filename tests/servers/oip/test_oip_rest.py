"""The OIP REST adapter over real HTTP: its paths, JSON and binary bodies, and error shapes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import orjson
import pytest

from tests.support.servers import RunningServer

pytestmark = pytest.mark.oip_rest

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
HEADER = "inference-header-content-length"


@pytest.fixture(scope="module")
def http(oip_rest: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://{oip_rest.target}", timeout=30.0) as client:
        yield client


def _infer_json(rows: list[list[float]], **extra: object) -> dict[str, object]:
    tensor = {"name": "features", "datatype": "FP64", "shape": [len(rows), 4], "data": rows}
    return {"inputs": [tensor], **extra}


def test_server_metadata_advertises_the_binary_extension(http: httpx.Client) -> None:
    metadata = http.get("/v2").json()
    assert metadata["name"] == "protobench"
    assert "binary_tensor_data" in metadata["extensions"]


def test_health_and_readiness(http: httpx.Client) -> None:
    assert http.get("/v2/health/live").json() == {"live": True}
    assert http.get("/v2/health/ready").json() == {"ready": True}
    assert http.get("/v2/models/iris/ready").json() == {"name": "iris", "ready": True}
    assert http.get("/v2/models/iris/versions/1/ready").status_code == 200


def test_model_metadata_by_version(http: httpx.Client) -> None:
    metadata = http.get("/v2/models/digits/versions/1").json()
    assert metadata["inputs"] == [{"name": "pixels", "datatype": "FP64", "shape": [-1, 64]}]
    assert metadata["outputs"][1] == {
        "name": "probabilities",
        "datatype": "FP64",
        "shape": [-1, 10],
    }


def test_json_in_json_out_echoes_the_id(http: httpx.Client) -> None:
    answer = http.post("/v2/models/iris/infer", json=_infer_json(ROWS, id="req-7"))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["id"] == "req-7" and body["model_name"] == "iris" and body["model_version"] == "2"
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["label"]["data"] == ["setosa", "virginica"]
    assert outputs["probabilities"]["shape"] == [2, 3]
    assert len(outputs["probabilities"]["data"]) == 6  # flattened, row-major
    assert body["parameters"]["served_by"] == "oip-replica" and body["parameters"]["prediction_id"]


def test_binary_in_binary_out_matches_json(http: httpx.Client) -> None:
    rows = np.asarray(ROWS, dtype=np.float32)
    head = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "features",
                    "datatype": "FP32",
                    "shape": [2, 4],
                    "parameters": {"binary_data_size": rows.nbytes},
                }
            ],
            "outputs": [{"name": "probabilities", "parameters": {"binary_data": True}}],
        }
    )
    answer = http.post(
        "/v2/models/iris/infer", content=head + rows.tobytes(), headers={HEADER: str(len(head))}
    )
    assert answer.status_code == 200, answer.text
    split = int(answer.headers[HEADER])
    document = orjson.loads(answer.content[:split])
    (output,) = document["outputs"]
    assert output["parameters"]["binary_data_size"] == 2 * 3 * 8
    binary = np.frombuffer(answer.content[split:], dtype="<f8").reshape(2, 3)
    as_json = http.post("/v2/models/iris/infer", json=_infer_json(rows.tolist())).json()
    expected = {o["name"]: o["data"] for o in as_json["outputs"]}["probabilities"]
    assert binary.ravel().tolist() == expected


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", {}, 400),
        (orjson.dumps({"inputs": []}), {}, 400),
        (orjson.dumps(_infer_json(ROWS) | {"outputs": [{"name": "nope"}]}), {}, 400),
        (
            orjson.dumps(
                {
                    "inputs": [
                        {"name": "features", "datatype": "FP99", "shape": [1, 4], "data": ROWS[0]}
                    ]
                }
            ),
            {},
            400,
        ),
        (
            orjson.dumps(
                {
                    "inputs": [
                        {
                            "name": "features",
                            "datatype": "FP64",
                            "shape": [1, 4],
                            "data": [True, 1, 2, 3],
                        }
                    ]
                }
            ),
            {},
            400,
        ),
        (orjson.dumps(_infer_json(ROWS)), {HEADER: "99999"}, 400),
        (
            orjson.dumps(_infer_json(ROWS)) + b"\0" * 8,
            {HEADER: str(len(orjson.dumps(_infer_json(ROWS))))},
            400,
        ),
    ],
    ids=[
        "not-json",
        "no-inputs",
        "unknown-output",
        "unknown-datatype",
        "bool-as-number",
        "header-past-the-body",
        "unclaimed-binary",
    ],
)
def test_bad_requests_get_the_spec_error_shape(
    http: httpx.Client, body: bytes, headers: dict[str, str], status: int
) -> None:
    answer = http.post("/v2/models/iris/infer", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"error"} and answer.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v2/models/nope", 404),
        ("GET", "/v2/models/iris/versions/9", 404),
        ("GET", "/v2/models/nope/ready", 404),
        ("POST", "/v2/models/nope/infer", 404),
        ("GET", "/v2/no/such/route", 404),
        ("GET", "/v2/models/iris/infer", 405),
    ],
)
def test_not_found_and_wrong_method(
    http: httpx.Client, method: str, path: str, status: int
) -> None:
    answer = http.request(method, path, json=_infer_json(ROWS))
    assert answer.status_code == status
    assert set(answer.json()) == {"error"}
