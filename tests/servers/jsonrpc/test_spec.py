"""JSON-RPC 2.0, rule by rule: raw bodies sent to a real server, answers checked to the letter.

Each row is one rule of the specification (or of this server's documented conventions): the
body sent and what must come back, a single answer, a batch of answers matched by id in any
order, or nothing at all (HTTP 204).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.servers.jsonrpc.conftest import MAX_BATCH, MAX_BODY_BYTES

pytestmark = pytest.mark.jsonrpc

PARSE, INVALID_REQUEST, NOT_FOUND_METHOD, INVALID_PARAMS, INTERNAL = (
    -32700, -32600, -32601, -32602, -32603,
)  # fmt: skip
NOT_FOUND, NOT_READY, TOO_LARGE, FAILED_PRECONDITION = -32001, -32002, -32003, -32005
IRIS_ROW = [5.1, 3.5, 1.4, 0.2]


@dataclass(frozen=True)
class Ok:
    """A Response with a ``result`` and this id."""

    id: Any


@dataclass(frozen=True)
class Err:
    """A Response with an ``error`` of this code, the core code name in ``data``, and this id."""

    code: int
    id: Any = None
    core: str = "INVALID_INPUT"


Expected = Ok | Err | list[Ok | Err] | None


def call(method: str, params: Any = None, id: Any = 1, **members: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id, **members}
    if params is not None:
        request["params"] = params
    return request


def notify(method: str, params: Any = None) -> dict[str, Any]:
    request = call(method, params)
    del request["id"]
    return request


def raw(value: Any) -> bytes:
    return json.dumps(value).encode()


PREDICT = {"model": "iris", "instances": [IRIS_ROW]}

CASES: list[tuple[str, bytes, Expected]] = [
    # -- calls ---------------------------------------------------------------------------
    ("named-params", raw(call("get_model", {"name": "iris"})), Ok(1)),
    ("no-params-member", raw(call("list_models")), Ok(1)),
    ("empty-array-is-no-params", raw(call("health", [])), Ok(1)),
    ("optional-param", raw(call("predict", {**PREDICT, "version": "1"}, id=7)), Ok(7)),
    ("string-id", raw(call("health", id="abc")), Ok("abc")),
    ("null-id-is-still-a-call", raw(call("health", id=None)), Ok(None)),
    ("fractional-id", raw(call("health", id=1.5)), Ok(1.5)),
    ("discover", raw(call("rpc.discover")), Ok(1)),
    # -- notifications: never answered, not even with an error ----------------------------
    ("notification", raw(notify("health")), None),
    ("notification-predict", raw(notify("predict", PREDICT)), None),
    ("notification-unknown-method", raw(notify("no_such_method")), None),
    ("notification-bad-params", raw(notify("get_model", {"nom": "iris"})), None),
    ("notification-core-error", raw(notify("get_model", {"name": "nope"})), None),
    # -- batches ------------------------------------------------------------------------------
    (
        "batch-mixed",
        raw([
            call("health", id="1"),
            notify("health"),
            call("get_model", {"name": "nope"}, id=2),
            {"foo": "boo"},
            call("no_such_method", id="5"),
            call("predict", PREDICT, id=9),
        ]),
        [Ok("1"), Err(NOT_FOUND, 2, "NOT_FOUND"), Err(INVALID_REQUEST),
         Err(NOT_FOUND_METHOD, "5"), Ok(9)],
    ),
    ("batch-of-one", raw([call("health")]), [Ok(1)]),
    ("batch-only-notifications", raw([notify("health"), notify("list_models")]), None),
    ("batch-empty", b"[]", Err(INVALID_REQUEST)),
    ("batch-of-a-non-request", b"[1]", [Err(INVALID_REQUEST)]),
    ("batch-of-non-requests", b"[1,2,3]", [Err(INVALID_REQUEST)] * 3),
    ("batch-invalid-json", b'[{"jsonrpc": "2.0", "method": "health", "id": 1},{"jsonrpc"]',
     Err(PARSE)),
    ("batch-at-limit", raw([call("health", id=i) for i in range(MAX_BATCH)]),
     [Ok(i) for i in range(MAX_BATCH)]),
    ("batch-over-limit", raw([call("health", id=i) for i in range(MAX_BATCH + 1)]),
     Err(TOO_LARGE, core="TOO_LARGE")),
    ("batch-nested", raw([[call("health")]]), [Err(INVALID_REQUEST)]),
    # -- -32700 parse error ---------------------------------------------------------------
    ("parse-broken", b'{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]', Err(PARSE)),
    ("parse-empty-body", b"", Err(PARSE)),
    ("parse-trailing-garbage", raw(call("health")) + b"}", Err(PARSE)),
    ("parse-too-deep", b"[" * 2000 + b"]" * 2000, Err(PARSE)),
    ("parse-not-utf8", b'{"jsonrpc": "2.0", "method": "\xff", "id": 1}', Err(PARSE)),
    # -- -32600 invalid request -----------------------------------------------------------
    ("top-level-number", b"5", Err(INVALID_REQUEST)),
    ("top-level-string", b'"health"', Err(INVALID_REQUEST)),
    ("top-level-null", b"null", Err(INVALID_REQUEST)),
    ("jsonrpc-missing", raw({"method": "health", "id": 1}), Err(INVALID_REQUEST)),
    ("jsonrpc-1.0", raw(call("health", jsonrpc="1.0")), Err(INVALID_REQUEST)),
    ("jsonrpc-a-number", raw(call("health", jsonrpc=2.0)), Err(INVALID_REQUEST)),
    ("method-missing", raw({"jsonrpc": "2.0", "id": 1}), Err(INVALID_REQUEST)),
    ("id-nan", b'{"jsonrpc": "2.0", "method": "health", "id": NaN}', Err(INVALID_REQUEST)),
    ("id-infinity", b'{"jsonrpc": "2.0", "method": "health", "id": 1e999}', Err(INVALID_REQUEST)),
    ("method-a-number", raw(call(1)), Err(INVALID_REQUEST)),
    ("method-null", raw(call(None)), Err(INVALID_REQUEST)),
    ("params-a-string", raw(call("health", "bar")), Err(INVALID_REQUEST)),
    ("params-a-number", raw(call("health", 5)), Err(INVALID_REQUEST)),
    ("params-null", raw({**call("health"), "params": None}), Err(INVALID_REQUEST)),
    ("id-an-object", raw(call("health", id={"a": 1})), Err(INVALID_REQUEST)),
    ("id-an-array", raw(call("health", id=[1])), Err(INVALID_REQUEST)),
    ("id-a-boolean", raw(call("health", id=True)), Err(INVALID_REQUEST)),
    ("unknown-member", raw(call("health", extra=1)), Err(INVALID_REQUEST)),
    ("invalid-request-without-id", raw({"jsonrpc": "2.0", "method": 1, "params": "bar"}),
     Err(INVALID_REQUEST)),
    # -- -32601 method not found ----------------------------------------------------------
    ("unknown-method", raw(call("foobar", id="1")), Err(NOT_FOUND_METHOD, "1")),
    ("unknown-rpc-extension", raw(call("rpc.nothing")), Err(NOT_FOUND_METHOD, 1)),
    ("method-name-is-case-sensitive", raw(call("Health")), Err(NOT_FOUND_METHOD, 1)),
    # -- -32602 invalid params ------------------------------------------------------------
    ("param-missing", raw(call("get_model", {})), Err(INVALID_PARAMS, 1)),
    ("param-extra", raw(call("get_model", {"name": "iris", "x": 1})), Err(INVALID_PARAMS, 1)),
    ("param-misspelt", raw(call("get_model", {"nom": "iris"})), Err(INVALID_PARAMS, 1)),
    ("param-wrong-type", raw(call("get_model", {"name": 5})), Err(INVALID_PARAMS, 1)),
    ("params-by-position", raw(call("get_model", ["iris"])), Err(INVALID_PARAMS, 1)),
    ("params-to-a-method-without", raw(call("health", {"x": 1})), Err(INVALID_PARAMS, 1)),
    ("discover-takes-no-params", raw(call("rpc.discover", {"x": 1})), Err(INVALID_PARAMS, 1)),
    ("instances-not-a-list", raw(call("predict", {"model": "iris", "instances": "1,2,3,4"})),
     Err(INVALID_PARAMS, 1)),
    ("instances-strings", raw(call("predict", {"model": "iris", "instances": [["1", 2, 3, 4]]})),
     Err(INVALID_PARAMS, 1)),
    ("instances-booleans", raw(call("predict", {"model": "iris", "instances": [[True, 2, 3, 4]]})),
     Err(INVALID_PARAMS, 1)),
    ("instances-null", raw(call("predict", {"model": "iris", "instances": [[None, 2, 3, 4]]})),
     Err(INVALID_PARAMS, 1)),
    ("version-a-number", raw(call("predict", {**PREDICT, "version": 2})), Err(INVALID_PARAMS, 1)),
    ("image-not-base64", raw(call("predict_image", {"model": "digits", "image": "not base64!"})),
     Err(INVALID_PARAMS, 1)),
    ("image-a-number", raw(call("predict_image", {"model": "digits", "image": 5})),
     Err(INVALID_PARAMS, 1)),
    # -- core errors, codes from the error table ------------------------------------------
    ("core-wrong-shape", raw(call("predict", {"model": "iris", "instances": [[1, 2]]})),
     Err(INVALID_PARAMS, 1)),
    ("core-empty-instances", raw(call("predict", {"model": "iris", "instances": []})),
     Err(INVALID_PARAMS, 1)),
    ("core-ragged", raw(call("predict", {"model": "iris", "instances": [IRIS_ROW, [1]]})),
     Err(INVALID_PARAMS, 1)),
    ("core-too-many-instances", raw(call("predict", {**PREDICT, "instances": [IRIS_ROW] * 1001})),
     Err(TOO_LARGE, 1, "TOO_LARGE")),
    ("core-unknown-model", raw(call("get_model", {"name": "nope"})),
     Err(NOT_FOUND, 1, "NOT_FOUND")),
    ("core-unknown-version", raw(call("predict", {**PREDICT, "version": "9"})),
     Err(NOT_FOUND, 1, "NOT_FOUND")),
    ("core-delete-default-version", raw(call("delete_version", {"model": "iris", "version": "2"})),
     Err(FAILED_PRECONDITION, 1, "FAILED_PRECONDITION")),
    ("core-image-not-an-image", raw(call("predict_image", {"model": "digits", "image": "AAAA"})),
     Err(INVALID_PARAMS, 1)),
]  # fmt: skip


def _matches(reply: Any, expected: Ok | Err) -> bool:
    if not isinstance(reply, dict) or reply.get("jsonrpc") != "2.0" or "id" not in reply:
        return False
    if reply["id"] != expected.id or type(reply["id"]) is not type(expected.id):
        return False
    if isinstance(expected, Ok):
        return "result" in reply and "error" not in reply
    error = reply.get("error")
    return (
        "result" not in reply
        and isinstance(error, dict)
        and set(error) == {"code", "message", "data"}
        and error["code"] == expected.code
        and isinstance(error["message"], str)
        and bool(error["message"])
        and error["data"]["code"] == expected.core
        and isinstance(error["data"]["details"], dict)
    )


def assert_answer(response: httpx.Response, expected: Expected) -> None:
    """The HTTP convention and the JSON-RPC answer: 204 with no body, or 200 with the reply."""
    if expected is None:
        assert response.status_code == 204, response.text
        assert response.content == b""
        assert "content-length" not in response.headers
        return
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert "Traceback" not in response.text
    answer = response.json()
    if not isinstance(expected, list):
        assert _matches(answer, expected), f"expected {expected}, got {answer}"
        return
    assert isinstance(answer, list) and len(answer) == len(expected), answer
    unmatched = list(answer)
    for want in expected:  # any order: each expectation takes the first reply it matches
        reply = next((r for r in unmatched if _matches(r, want)), None)
        assert reply is not None, f"no reply matches {want} among {unmatched}"
        unmatched.remove(reply)


@pytest.mark.parametrize(("body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_spec_rule(http: httpx.Client, body: bytes, expected: Expected) -> None:
    response = http.post("/jsonrpc", content=body, headers={"content-type": "application/json"})
    assert_answer(response, expected)


def test_results_answer_the_call_they_belong_to(http: httpx.Client) -> None:
    body = raw([call("get_model", {"name": name}, id=name) for name in ("digits", "iris")])
    by_id = {reply["id"]: reply["result"] for reply in http.post("/jsonrpc", content=body).json()}
    assert by_id["iris"]["name"] == "iris" and by_id["digits"]["name"] == "digits"


def test_core_error_data_carries_the_details(http: httpx.Client) -> None:
    error = http.post("/jsonrpc", content=raw(call("get_model", {"name": "nope"}))).json()["error"]
    assert error["data"] == {"code": "NOT_FOUND", "details": {"model": "nope"}}
    assert "nope" in error["message"]


def test_invalid_params_say_which_param(http: httpx.Client) -> None:
    body = raw(call("predict", {"model": "iris", "instances": [[1, "x", 3, 4]]}))
    error = http.post("/jsonrpc", content=body).json()["error"]
    assert "instances.0.1" in error["message"]
    assert error["data"]["details"]["errors"][0]["loc"] == ["instances", "0", "1"]


def test_body_over_the_limit_is_one_too_large_error(http: httpx.Client) -> None:
    rows = [IRIS_ROW] * (MAX_BODY_BYTES // 20)
    body = raw(call("predict", {"model": "iris", "instances": rows}))
    assert len(body) > MAX_BODY_BYTES
    response = http.post("/jsonrpc", content=body)
    assert_answer(response, Err(TOO_LARGE, core="TOO_LARGE"))
    assert str(MAX_BODY_BYTES) in response.json()["error"]["message"]
    assert response.headers["connection"] == "close"  # the unread rest is not drained
    assert_answer(http.post("/jsonrpc", content=raw(call("health"))), Ok(1))


def test_body_over_the_limit_without_a_length_is_refused_too(http: httpx.Client) -> None:
    chunk = b" " * 8192

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as the body arrives
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            yield chunk

    response = http.post("/jsonrpc", content=chunks())
    assert_answer(response, Err(TOO_LARGE, core="TOO_LARGE"))


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/jsonrpc", 405), ("PUT", "/jsonrpc", 405), ("POST", "/", 404),
     ("POST", "/jsonrpc/", 404), ("GET", "/models", 404)],
)  # fmt: skip
def test_http_errors_outside_the_endpoint(
    http: httpx.Client, method: str, path: str, status: int
) -> None:
    response = http.request(method, path, content=raw(call("health")))
    assert response.status_code == status
    if status == 405:
        assert response.headers["allow"] == "POST"


def test_any_content_type_is_read_as_json(http: httpx.Client) -> None:
    """curl -d sends application/x-www-form-urlencoded; the body is JSON all the same."""
    response = http.post("/jsonrpc", content=raw(call("health")), headers={"content-type": "x/y"})
    assert_answer(response, Ok(1))
