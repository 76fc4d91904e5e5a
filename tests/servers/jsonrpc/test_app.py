"""The JSON-RPC app in process, for what a healthy real server cannot show: a bug inside a
method, and a server whose models are still loading."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest

from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.core.types import ModelMetadata
from servers.jsonrpc_server import JsonRpcApp

pytestmark = pytest.mark.jsonrpc


def post(app: JsonRpcApp, payload: Any) -> Any:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/jsonrpc", content=json.dumps(payload))

    response = asyncio.run(send())
    assert response.status_code == 200
    assert "Traceback" not in response.text and "secret" not in response.text
    return response.json()


def call(method: str, params: dict[str, Any] | None = None, id: int = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params or {}, "id": id}


class BrokenService(InferenceService):
    def get_model(self, name: str) -> ModelMetadata:
        raise RuntimeError("secret detail that must stay in the log")


def test_a_bug_in_a_method_is_a_generic_internal_error(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    service = BrokenService(settings)
    service.load()
    with caplog.at_level(logging.ERROR):
        answer = post(JsonRpcApp(service), call("get_model", {"name": "iris"}))
    assert answer["id"] == 1
    assert answer["error"]["code"] == -32603
    assert answer["error"]["data"] == {"code": "INTERNAL", "details": {}}
    assert "secret detail" in caplog.text  # logged with its stack, server-side only


def test_a_bug_in_one_batch_entry_leaves_the_others_answered(settings: Settings) -> None:
    service = BrokenService(settings)
    service.load()
    answers = post(
        JsonRpcApp(service), [call("get_model", {"name": "iris"}, 1), call("health", id=2)]
    )
    by_id = {a["id"]: a for a in answers}
    assert by_id[1]["error"]["code"] == -32603
    assert by_id[2]["result"]["ready"] is True


def test_an_exception_jsonrpcserver_catches_itself_does_not_leak(service: InferenceService) -> None:
    """A method that raises past our wrapper: the library would send str(exc) as data."""

    async def raw_method() -> Any:
        raise RuntimeError("secret from the library path")

    app = JsonRpcApp(service)
    app.dispatcher.methods["raw"] = raw_method
    answer = post(app, call("raw"))
    assert answer["error"]["code"] == -32603
    assert answer["error"]["data"] == {"code": "INTERNAL", "details": {}}


def test_not_ready_until_the_models_are_loaded(settings: Settings) -> None:
    app = JsonRpcApp(InferenceService(settings))  # never loaded
    answer = post(app, call("list_models"))
    assert answer["error"]["code"] == -32002
    assert answer["error"]["data"]["code"] == "NOT_READY"
    assert answer["error"]["data"]["details"] == {"retry": True}
    health = post(app, call("health"))["result"]
    assert health["live"] is True and health["ready"] is False
