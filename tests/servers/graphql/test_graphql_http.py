"""The GraphQL adapter over HTTP, in process: status codes, error shapes, what never leaks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from servers.adapter_common import INTERNAL_MESSAGE
from servers.graphql_server import create_app

JSON = {"content-type": "application/json"}


def _client(service: InferenceService) -> TestClient:
    """Not entered as a context manager: that would send ASGI lifespan events, which
    strawberry's view refuses (uvicorn, with ``lifespan="auto"``, serves it without them)."""
    return TestClient(create_app(service), raise_server_exceptions=False)


@pytest.fixture
def http(service: InferenceService) -> TestClient:
    return _client(service)


def _post(http: TestClient, query: str, **variables: Any) -> Any:
    response = http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_predict(http: TestClient) -> None:
    body = _post(
        http,
        'query P($rows: [[Float!]!]!) { predict(model: "iris", instances: $rows) '
        "{ model servedBy predictions { label } } }",
        rows=[[5.1, 3.5, 1.4, 0.2]],
    )
    assert body == {
        "data": {
            "predict": {
                "model": "iris", "servedBy": "test-replica", "predictions": [{"label": "setosa"}]
            }
        }
    }  # fmt: skip


def test_core_error_has_code_and_details(http: TestClient) -> None:
    body = _post(http, '{ model(name: "nope") { name } }')
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "NOT_FOUND", "details": {"model": "nope"}}
    assert "nope" in error["message"] and error["path"] == ["model"]


@pytest.mark.parametrize(
    ("query", "variables", "says"),
    [
        ("{ modelz }", {}, "Cannot query field 'modelz'"),
        ("{ models { name ", {}, "Syntax Error"),
        ('{ predict(model: "iris") { model } }', {}, "predict(instances:)"),
        (
            'query P($rows: [[Float!]!]!) { predict(model: "iris", instances: $rows) { model } }',
            {"rows": [[True, 1, 2, 3]]},
            "Float cannot represent",
        ),
        (
            'query P($rows: [[Float!]!]!) { predict(model: "iris", instances: $rows) { model } }',
            {"rows": [[None, 1, 2, 3]]},
            "not to be None",
        ),
    ],
    ids=["unknown-field", "syntax", "missing-argument", "boolean-feature", "null-feature"],
)
def test_malformed_queries_are_invalid_input(
    http: TestClient, query: str, variables: dict[str, Any], says: str
) -> None:
    body = _post(http, query, **variables)
    [error] = body["errors"]
    assert says in error["message"]
    assert error["extensions"] == {"code": "INVALID_INPUT"}


@pytest.mark.parametrize(
    ("content", "content_type", "says"),
    [
        (b"{not json", "application/json", "JSON"),
        (b"42", "application/json", "JSON object"),
        (b'{"query": 42}', "application/json", "must be a string"),
        (b'{"variables": {}}', "application/json", "No GraphQL query"),
        (b"query=x", "text/plain", "content type"),
        (b"[]", "application/json", "Batching"),
    ],
)
def test_requests_without_a_usable_operation_are_400(
    http: TestClient, content: bytes, content_type: str, says: str
) -> None:
    response = http.post("/graphql", content=content, headers={"content-type": content_type})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert says in error["message"] and error["extensions"]["code"] == "INVALID_INPUT"


def test_mutation_over_get_is_refused(http: TestClient) -> None:
    response = http.get(
        "/graphql", params={"query": 'mutation { deleteVersion(model: "iris", version: "1") '
                            "{ model } }"}
    )  # fmt: skip
    assert response.status_code == 400
    assert "mutations are not allowed" in response.json()["errors"][0]["message"]


def test_query_over_get_works(http: TestClient) -> None:
    response = http.get("/graphql", params={"query": "{ health { ready } }"})
    assert response.json() == {"data": {"health": {"ready": True}}}


def test_other_paths_are_404(http: TestClient) -> None:
    response = http.post("/graph", json={"query": "{ health { ready } }"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_other_methods_are_405(http: TestClient) -> None:
    response = http.put("/graphql", json={"query": "{ health { ready } }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


def test_graphiql_for_browsers(http: TestClient) -> None:
    response = http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


def test_body_over_the_limit_is_413(settings: Settings) -> None:
    small = InferenceService(settings.model_copy(update={"max_body_bytes": 1024}))
    small.load()
    query = 'query P($rows: [[Float!]!]!) { predict(model: "iris", instances: $rows) { model } }'
    http = _client(small)
    fits = http.post("/graphql", json={"query": query, "variables": {"rows": [[1, 2, 3, 4]]}})
    assert fits.json()["data"]["predict"]["model"] == "iris"
    rows = [[1.0, 2.0, 3.0, 4.0]] * 100
    response = http.post("/graphql", json={"query": query, "variables": {"rows": rows}})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "TOO_LARGE"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"query": "{ health { ready } }", "pad": "'
        yield b"x" * 2048
        yield b'"}'

    response = http.post("/graphql", content=chunks(), headers=JSON)
    assert response.status_code == 413


class BrokenService(InferenceService):
    def list_models(self) -> Any:
        raise RuntimeError("secret internals: /etc/passwd")


def test_unexpected_errors_are_internal_and_leak_nothing(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    broken = BrokenService(settings)
    broken.load()
    response = _client(broken).post("/graphql", json={"query": "{ models { name } }"})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == INTERNAL_MESSAGE
    assert error["extensions"] == {"code": "INTERNAL"}
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "secret internals" in caplog.text  # logged on the server, with the traceback
