"""FastAPI routes called without the dependency solver, for endpoints that need none.

FastAPI runs its dependency solver on every request, even for an endpoint whose only
parameters are the request and text path parameters, where there is nothing to solve or
check; on a REST predict that cost about a sixth of the server's CPU. A ``DirectRoute``
calls such an endpoint straight. Matching, the app's exception handlers and the OpenAPI
document are those of any route (``APIRoute``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.routing import compile_path


class DirectRoute(APIRoute):
    """A route whose endpoint takes the request and text path parameters (by name) and
    answers a ``Response`` itself."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            response: Response = await endpoint(request=request, **request.path_params)
            return response

        return handler


def takes_only_path(path: str, endpoint: Callable[..., Any]) -> bool:
    """Whether ``endpoint``'s parameters are ``request`` and text parameters of ``path``."""
    in_path = compile_path(path)[2]
    return all(
        p.name == "request" or (p.name in in_path and p.annotation in ("str", str))
        for p in inspect.signature(endpoint).parameters.values()
    )
