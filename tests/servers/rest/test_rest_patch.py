"""PATCH /models/{name}/strategy: part of a strategy changed, the rest kept, checked by the core."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from protobench.core.service import InferenceService
from servers.rest_server import create_app

CANARY = {"kind": "canary", "versions": ["1", "2"], "canary_percent": 10, "seed": 3}


@pytest.fixture
def http(service: InferenceService) -> Iterator[TestClient]:
    with TestClient(create_app(service), raise_server_exceptions=False) as client:
        yield client


def test_patch_changes_the_canary_percent_and_keeps_the_rest(http: TestClient) -> None:
    assert http.put("/models/iris/strategy", json=CANARY).status_code == 200
    response = http.patch("/models/iris/strategy", json={"canary_percent": 25})
    assert response.status_code == 200, response.text
    strategy = response.json()["strategy"]
    assert strategy["canary_percent"] == 25
    assert {k: strategy[k] for k in ("kind", "versions", "seed")} == {
        "kind": "canary", "versions": ["1", "2"], "seed": 3,
    }  # fmt: skip
    assert http.get("/models/iris/strategy").json()["strategy"] == strategy


@pytest.mark.parametrize(
    ("changes", "status", "says"),
    [
        ({"canary_percent": 150}, 422, "canary_percent"),  # the core's check of the merge
        ({"canary_pct": 25}, 422, "canary_pct"),  # an unknown field
        ({"versions": ["1", "9"]}, 404, "9"),  # a version the model does not have
        ({}, 422, "canary_percent"),  # nothing to change: says what to send
        ([1, 2], 422, ""),  # not an object: FastAPI's body check, same row of the table
    ],
)
def test_a_bad_patch_is_refused_and_changes_nothing(
    http: TestClient, changes: object, status: int, says: str
) -> None:
    http.put("/models/iris/strategy", json=CANARY)
    response = http.patch("/models/iris/strategy", json=changes)
    assert response.status_code == status, response.text
    assert says in response.text and "Traceback" not in response.text
    assert http.get("/models/iris/strategy").json()["strategy"]["canary_percent"] == 10


def test_patch_of_an_unknown_model_is_not_found(http: TestClient) -> None:
    assert http.patch("/models/nope/strategy", json={"seed": 1}).status_code == 404


def test_patch_is_in_the_openapi_document(http: TestClient) -> None:
    operation = http.get("/openapi.json").json()["paths"]["/models/{name}/strategy"]["patch"]
    assert operation["requestBody"]["required"] is True
