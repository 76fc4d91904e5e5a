"""Query limits and the introspection switch, on real servers started from the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from clients.base import ClientError
from clients.graphql_client import GraphQLClient
from protobench.core.errors import ErrorCode
from tests.support.servers import RunningServer, running_server


@pytest.fixture(scope="module")
def default_server(
    models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with running_server("graphql", tmp_path_factory.mktemp("graphql"), models_dir) as server:
        yield server


@pytest.fixture(scope="module")
def strict_server(
    models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    env = {
        "PROTOBENCH_GRAPHQL_INTROSPECTION": "false",
        "PROTOBENCH_GRAPHQL_MAX_DEPTH": "1",
        "PROTOBENCH_GRAPHQL_MAX_ALIASES": "1",  # the client's health query has one
        "PROTOBENCH_MAX_BODY_BYTES": "1024",
    }
    workdir = tmp_path_factory.mktemp("graphql-strict")
    with running_server("graphql", workdir, models_dir, env=env) as server:
        yield server


def _errors(server: RunningServer, query: str) -> list[dict[str, Any]]:
    response = httpx.post(f"http://{server.target}/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    errors: list[dict[str, Any]] = body["errors"]
    return errors


def _ok(server: RunningServer, query: str) -> dict[str, Any]:
    response = httpx.post(f"http://{server.target}/graphql", json={"query": query})
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_a_query_over_the_size_limit_is_too_large(default_server: RunningServer) -> None:
    query = "# " + "x" * (16 * 1024) + "\n{ health { ready } }"
    [error] = _errors(default_server, query)
    assert error["extensions"]["code"] == "TOO_LARGE"
    assert "limit is 16384" in error["message"]


def test_a_query_with_too_many_tokens_is_refused(default_server: RunningServer) -> None:
    query = "{ health { " + "ready " * 1000 + "} }"
    [error] = _errors(default_server, query)
    assert "more than 1000 tokens" in error["message"]


def test_too_many_aliases_are_refused(default_server: RunningServer) -> None:
    query = "{ " + " ".join(f"a{i}: health {{ ready }}" for i in range(11)) + " }"
    [error] = _errors(default_server, query)
    assert "11 aliases found. Allowed: 10" in error["message"]
    assert _ok(
        default_server, "{ " + " ".join(f"a{i}: health {{ ready }}" for i in range(10)) + " }"
    )


def test_introspection_and_graphiql_are_on_by_default(default_server: RunningServer) -> None:
    data = _ok(default_server, get_introspection_query(descriptions=True))
    names = {t["name"] for t in data["__schema"]["types"]}
    assert {"Query", "Mutation", "PredictResponse", "ModelMetadata"} <= names
    page = httpx.get(f"http://{default_server.target}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_introspection_switched_off(strict_server: RunningServer) -> None:
    [error] = _errors(strict_server, '{ __type(name: "Query") { name } }')
    assert "introspection" in error["message"].lower()
    page = httpx.get(f"http://{strict_server.target}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_a_query_deeper_than_the_limit_is_refused(strict_server: RunningServer) -> None:
    assert _ok(strict_server, "{ health { ready } }") == {"health": {"ready": True}}
    [error] = _errors(strict_server, "{ models { input { shape } } }")
    assert "exceeds maximum operation depth of 1" in error["message"]


def test_the_alias_limit_is_a_setting(strict_server: RunningServer) -> None:
    [error] = _errors(strict_server, "{ a: health { ready } b: health { live } }")
    assert "2 aliases found. Allowed: 1" in error["message"]


def test_the_client_maps_refusals_to_core_codes(strict_server: RunningServer) -> None:
    with GraphQLClient(strict_server.target) as client:
        with pytest.raises(ClientError) as exc:
            client.list_models()  # its query is 3 deep: a validation error, no code
        assert exc.value.code == ErrorCode.INVALID_INPUT
        assert "depth" in exc.value.message
        with pytest.raises(ClientError) as exc:
            client.predict("iris", [[5.1, 3.5, 1.4, 0.2]] * 100)  # over the 1 KiB body limit
        assert exc.value.code == ErrorCode.TOO_LARGE
        assert exc.value.protocol_status == "TOO_LARGE"
