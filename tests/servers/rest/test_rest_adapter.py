"""The REST adapter in process: HTTP-specific behaviour the conformance suite cannot see."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from servers.rest_server import create_app

JSON = {"content-type": "application/json"}


@pytest.fixture
def http(service: InferenceService) -> Iterator[TestClient]:
    with TestClient(create_app(service), raise_server_exceptions=False) as client:
        yield client


def _assert_error(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["code"] == code and body["message"]
    assert "Traceback" not in response.text  # type: ignore[attr-defined]
    return body


def test_predict(http: TestClient) -> None:
    response = http.post("/models/iris/predict", json={"instances": [[5.1, 3.5, 1.4, 0.2]]})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "iris" and body["version"] == "2"
    assert body["served_by"] == "test-replica"
    assert body["predictions"][0]["label"] == "setosa"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b'{"instances": [[1, 2, 3, 4]]', 400),
        (b"", 422),
        (b"[]", 422),
        (b'{"instances": "1,2,3,4"}', 422),
        (b'{"instances": [["a", 2, 3, 4]]}', 422),
        (b'{"instances": [[true, 2, 3, 4]]}', 422),
        (b'{"instances": [[null, 2, 3, 4]]}', 422),
        (b'{"instances": [[NaN, 2, 3, 4]]}', 422),
        (b'{"instances": [[1, 2, 3, 4]], "version": 2}', 422),
        (b'{"instances": [[1, 2, 3, 4]], "unknown": 1}', 422),
        (b'{"rows": [[1, 2, 3, 4]]}', 422),
    ],
)
def test_bad_bodies_are_4xx_with_a_json_error(http: TestClient, body: bytes, status: int) -> None:
    response = http.post("/models/iris/predict", content=body, headers=JSON)
    _assert_error(response, status, "INVALID_INPUT")
    assert http.get("/health/live").status_code == 200


def test_huge_batch_is_413(http: TestClient) -> None:
    response = http.post("/models/iris/predict", json={"instances": [[1, 2, 3, 4]] * 1001})
    body = _assert_error(response, 413, "TOO_LARGE")
    assert body["details"] == {"instances": 1001, "limit": 1000}


def test_unknown_model_is_404(http: TestClient) -> None:
    _assert_error(http.post("/models/nope/predict", json={"instances": [[1, 2, 3, 4]]}), 404,
                  "NOT_FOUND")  # fmt: skip
    _assert_error(http.get("/models/nope"), 404, "NOT_FOUND")


def test_unknown_route_and_method(http: TestClient) -> None:
    _assert_error(http.get("/no/such/route"), 404, "NOT_FOUND")
    response = http.get("/models/iris/predict")
    _assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", ""])
def test_image_needs_an_image_content_type(http: TestClient, content_type: str) -> None:
    response = http.put("/models/digits/image", content=b"\x89PNG", headers={
        "content-type": content_type})  # fmt: skip
    _assert_error(response, 415, "INVALID_INPUT")


def test_undecodable_image_is_422(http: TestClient) -> None:
    response = http.put(
        "/models/digits/image", content=b"not a png", headers={"content-type": "image/png"}
    )
    _assert_error(response, 422, "INVALID_INPUT")


def test_delete_returns_204_then_404(http: TestClient) -> None:
    assert http.delete("/models/iris/versions/1").status_code == 204
    _assert_error(http.delete("/models/iris/versions/1"), 404, "NOT_FOUND")
    _assert_error(http.delete("/models/iris/versions/2"), 409, "FAILED_PRECONDITION")


def test_ready_is_503_until_models_load(settings: Settings) -> None:
    service = InferenceService(settings)
    with TestClient(create_app(service)) as http:
        assert http.get("/health/live").status_code == 200
        response = http.get("/health/ready")
        assert response.status_code == 503 and response.json()["ready"] is False
        _assert_error(http.get("/models"), 503, "NOT_READY")
        service.load()
        assert http.get("/health/ready").status_code == 200


def test_unexpected_errors_are_500_without_details(
    service: InferenceService, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal state")

    monkeypatch.setattr(service, "list_models", explode)
    with TestClient(create_app(service), raise_server_exceptions=False) as http:
        response = http.get("/models")
    _assert_error(response, 500, "INTERNAL")
    assert "secret" not in response.text


def test_openapi_documents_every_route_and_error(http: TestClient) -> None:
    spec = http.get("/openapi.json").json()
    predict = spec["paths"]["/models/{name}/predict"]["post"]
    assert "requestBody" in predict
    assert {"200", "400", "404", "413", "422", "503"} <= set(predict["responses"])
    image = spec["paths"]["/models/{name}/image"]["put"]
    assert set(image["requestBody"]["content"]) == {"image/png", "image/jpeg"}
    assert "415" in image["responses"]
    assert "204" in spec["paths"]["/models/{name}/versions/{version}"]["delete"]["responses"]
    assert http.get("/docs").status_code == 200
