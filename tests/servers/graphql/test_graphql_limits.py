"""Query limits and the introspection switch, on real servers started from the CLI."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    FragmentDefinitionNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_introspection_query,
    parse,
)

from clients.base import ClientError
from clients.graphql_client import GraphQLClient
from protobench.core.errors import ErrorCode
from protobench.core.settings import Settings
from servers.graphql_limits import (
    ExpandedSizes,
    Limits,
    Totals,
    input_nodes,
    max_body_bytes,
    max_input_nodes,
    refusals,
)
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


def fragment_fan_out(levels: int, extra: str = "") -> str:
    """issue 21's reproducer: each fragment spreads the next one twice, so the expanded query
    selects 2^levels fields from a text that grows by one line per level. ``extra`` is
    selected in each fragment besides the two spreads."""
    fragments = " ".join(
        f"fragment F{i} on ModelMetadata{{{extra} ...F{i + 1} ...F{i + 1}}}" for i in range(levels)
    )
    return f"{{models{{...F0}}}} {fragments} fragment F{levels} on ModelMetadata{{name}}"


def test_a_fan_out_under_the_field_limit_runs(default_server: RunningServer) -> None:
    data = _ok(default_server, fragment_fan_out(9))  # 513 fields once expanded
    assert {m["name"] for m in data["models"]} == {"iris", "digits"}


@pytest.mark.parametrize("levels", [10, 18, 21, 30])
def test_a_fragment_fan_out_is_refused_while_health_is_answered(
    default_server: RunningServer, levels: int
) -> None:
    url = f"http://{default_server.target}/graphql"
    with ThreadPoolExecutor(1) as pool:
        fan_out = pool.submit(httpx.post, url, json={"query": fragment_fan_out(levels)}, timeout=30)
        health = httpx.post(url, json={"query": "{ health { ready } }"}, timeout=30)
        response = fan_out.result()
    assert health.json() == {"data": {"health": {"ready": True}}}
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "INVALID_INPUT",
        "details": {"fields": 2**levels + 1, "limit": 1000},
    }


def _measured(query: str) -> tuple[Totals, int]:
    """The operation's totals, and how many selection sets were walked to find them."""
    document = parse(query)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    walked = 0

    class Counting(ExpandedSizes):
        def of(self, selection_set: SelectionSetNode | None) -> Totals:
            nonlocal walked
            walked += 1
            return super().of(selection_set)

    return Counting(fragments).of(operation.selection_set), walked


@pytest.mark.parametrize("levels", [1, 10, 30, 100])
def test_the_limits_walk_each_selection_set_once(levels: int) -> None:
    """Linear in the text: 2^levels fields cost one walk per fragment, not one per spread."""
    totals, walked = _measured(fragment_fan_out(levels))
    assert totals == Totals(depth=1, aliases=0, fields=2**levels + 1)
    # the operation's, models', each fragment's, and the leaf field name's (empty)
    assert walked == 2 + (levels + 1) + 1


def test_depth_and_aliases_are_counted_through_the_fan_out() -> None:
    levels = 40
    totals, walked = _measured(fragment_fan_out(levels, extra="a: input { shape }"))
    # F(i) = the alias field + shape + twice F(i+1); F(levels) = name
    assert totals == Totals(
        depth=2, aliases=2**levels - 1, fields=1 + 2 * (2**levels - 1) + 2**levels
    )
    assert walked < 5 * levels
    errors = refusals([("q", totals)], Limits(max_depth=1, max_aliases=10, max_fields=1000))
    assert [e.extensions and e.extensions["details"] for e in errors] == [
        {"depth": 2, "limit": 1},
        {"fields": totals.fields, "limit": 1000},
        {"aliases": totals.aliases, "limit": 10},
    ]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("{ models { input { shape { x } } } }", id="unknown-field"),
        pytest.param("{ health { ready " + "ready " * 1000 + "} }", id="tokens"),
        pytest.param("{ " + " ".join(f"a{i}: health {{ ready }}" for i in range(11)) + " }",
                     id="aliases"),
        pytest.param("{ models { ...A } } fragment A on ModelMetadata { ...B } "
                     "fragment B on ModelMetadata { ...A }", id="fragment-cycle"),
        pytest.param("{ models { ...Missing } }", id="unknown-fragment"),
        pytest.param("{ models { name ", id="syntax"),
        pytest.param("query($n: Int) { health { ready } }", id="unused-variable"),
    ],
)  # fmt: skip
def test_every_refused_document_is_invalid_input(default_server: RunningServer, query: str) -> None:
    for error in _errors(default_server, query):
        assert error["extensions"]["code"] == "INVALID_INPUT", error


def test_a_document_deeper_than_the_limit_is_invalid_input(strict_server: RunningServer) -> None:
    [error] = _errors(strict_server, "{ models { input { shape } } }")
    assert error["extensions"] == {"code": "INVALID_INPUT", "details": {"depth": 2, "limit": 1}}


SET_STRATEGY = 'mutation($s: StrategyInput!) { setStrategy(model: "iris", strategy: $s) { model } }'


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ predic(model: \"iris\") { model } }", None),
        ("{ health { redy } }", None),
        (SET_STRATEGY, {"s": {"kinde": "fixed"}}),
    ],
)  # fmt: skip
def test_no_suggestions_without_introspection(
    default_server: RunningServer,
    strict_server: RunningServer,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    """Introspection off keeps the schema's names private: no "Did you mean ...?" either."""
    body = {"query": query, "variables": variables}
    open_errors = httpx.post(f"http://{default_server.target}/graphql", json=body).json()["errors"]
    assert any("Did you mean" in e["message"] for e in open_errors)
    strict = httpx.post(f"http://{strict_server.target}/graphql", json=body).json()
    assert strict["errors"]
    assert not any("Did you mean" in e["message"] for e in strict["errors"]), strict
    assert all(e["extensions"]["code"] == "INVALID_INPUT" for e in strict["errors"])


PREDICT_ROWS = 'query P($rows: [[Float!]!]!) { predict(model: "%s", instances: $rows) { model } }'


def _post_rows(server: RunningServer, model: str, rows: object) -> httpx.Response:
    body = {"query": PREDICT_ROWS % model, "variables": {"rows": rows}}
    return httpx.post(f"http://{server.target}/graphql", json=body, timeout=60)


def test_variables_over_what_any_operation_uses_are_refused_before_coercion(
    default_server: RunningServer,
) -> None:
    """issue 21: 100,000s of rows were coerced by graphql-core (seconds on the event loop)
    before the core said 1000 rows is the limit; now they are counted first."""
    limit = max_input_nodes(1000)
    for rows in ([[0, 0, 0, 0]] * 150_000, [[]] * 70_000):
        [error] = _post_rows(default_server, "iris", rows).json()["errors"]
        assert error["extensions"] == {"code": "TOO_LARGE", "details": {"limit": limit}}
    most = [[float(i % 17) for i in range(64)]] * 1000  # the largest predict the core takes
    assert _post_rows(default_server, "digits", most).json() == {
        "data": {"predict": {"model": "digits"}}
    }


def test_the_body_limit_is_what_the_largest_useful_request_takes(
    default_server: RunningServer,
) -> None:
    limit = max_body_bytes(Settings())
    assert limit < Settings().max_body_bytes  # 2.7 MiB of the shared 8 MiB
    response = _post_rows(default_server, "iris", [[5.1, 3.5, 1.4, 0.2]] * 440_000)  # 7.6 MiB
    assert response.status_code == 413
    assert f"the limit is {limit}" in response.json()["errors"][0]["message"]
    image = base64.b64encode(bytes(Settings().max_image_bytes)).decode()  # the largest image
    query = 'query I($i: String!) { predictImage(model: "digits", image: $i) { model } }'
    body = {"query": query, "variables": {"i": image}}
    response = httpx.post(f"http://{default_server.target}/graphql", json=body, timeout=60)
    assert response.status_code == 200  # reaches the core, which cannot decode it
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


@pytest.mark.parametrize(
    ("value", "nodes"),
    [(1, 1), ([], 1), ([[1, 2], [3]], 6), ({"a": [1], "b": "x"}, 4), ([[]] * 10**6, 101)],
)
def test_input_nodes_counts_up_to_just_past_the_limit(value: object, nodes: int) -> None:
    assert input_nodes(value, 100) == nodes
