"""Which endpoints skip FastAPI's dependency solver (servers/direct_route.py): only those
with nothing to solve, so every other parameter is still read and checked by FastAPI."""

from __future__ import annotations

from fastapi import Request

from servers.direct_route import takes_only_path
from servers.rest_server import ROUTES


async def path_only(request: Request, name: str, input_id: str) -> None: ...


async def with_query(request: Request, name: str, limit: int = 10) -> None: ...


async def with_number_in_path(request: Request, name: int) -> None: ...


async def with_body(request: Request, name: str, body: dict[str, str]) -> None: ...


def test_only_the_request_and_text_path_parameters_go_direct() -> None:
    path = "/models/{name}/{input_id:path}"
    assert takes_only_path(path, path_only)
    assert not takes_only_path(path, with_query)
    assert not takes_only_path(path, with_number_in_path)
    assert not takes_only_path(path, with_body)


def test_rest_routes_with_query_or_body_parameters_keep_the_solver() -> None:
    direct = {r.operation for r in ROUTES if takes_only_path(r.path, r.endpoint)}
    assert "predict" in direct and "get_prediction" in direct
    solved = {"predict_image", "set_strategy", "update_strategy", "feedback", "list_predictions"}
    assert not direct & solved
