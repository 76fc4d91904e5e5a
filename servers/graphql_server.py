"""GraphQL adapter: strawberry's ASGI view on uvicorn, serving ``/graphql``.

HTTP status convention (GraphQL-over-HTTP, ``application/json`` responses, as strawberry
implements it): every request that carries a GraphQL operation gets ``200``, whatever errors
its ``errors[]`` holds (validation, limits, core errors); a request that carries no usable
operation (body not JSON, no query, a mutation over GET, wrong content type) gets ``400``, a
body over ``graphql_limits.max_body_bytes`` (``max_body_bytes``, or less: what the largest
useful request takes) gets ``413``, another path ``404``, another method ``405``.
Those HTTP-level refusals carry a GraphQL-shaped body too:
``{"errors": [{"message", "extensions": {"code"}}]}``.

Each ``errors[]`` entry from the core has ``extensions.code`` from ``protobench.error_table``
and ``extensions.details`` when the core gave details. The caller's other mistakes (a
malformed query, a limit exceeded, an unknown field, a variable of the wrong type) are
``INVALID_INPUT``. An unexpected exception is logged here and answered as ``INTERNAL`` with a
generic message.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionContext, ExecutionResult

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.error_table import METHOD_NOT_ALLOWED, from_http_status, http_status
from servers import json_body
from servers.adapter_common import INTERNAL_MESSAGE, too_large
from servers.asgi_runner import ASGIApp, Refusal, serve_asgi, with_body_limit
from servers.graphiql_assets import PREFIX as ASSETS_PREFIX
from servers.graphiql_assets import asset_response, offline_page
from servers.graphql_checks import CACHE_SIZE, CheckedDocuments, DocumentChecks, QuietExecutor
from servers.graphql_limits import max_body_bytes
from servers.graphql_schema import Context, Mutation, Query, bind_resolvers
from servers.graphql_spec import GRAPHQL_CODE
from servers.listen import Listen

log = logging.getLogger(__name__)

PATH = "/graphql"


def _is_unexpected(error: GraphQLError) -> bool:
    """An exception that is neither the core's nor graphql-core's own refusal of the request."""
    original = error.original_error
    return original is not None and not isinstance(original, CoreError | GraphQLError)


class ProtobenchSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log only what the server did wrong; the caller's mistakes are answered, not logged."""
        for error in errors:
            if _is_unexpected(error):
                log.error("unexpected error at %s", error.path, exc_info=error.original_error)


def build_schema(settings: Settings, *, cache_size: int = CACHE_SIZE) -> strawberry.Schema:
    documents = CheckedDocuments(settings, cache_size=cache_size)
    schema = ProtobenchSchema(
        query=Query,
        mutation=Mutation,
        extensions=[lambda: DocumentChecks(documents)],
        execution_context_class=None if settings.graphql_introspection else QuietExecutor,
    )
    bind_resolvers(schema)
    return schema


def format_error(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, CoreError):
        formatted["message"] = original.message
        formatted["extensions"] = {"code": GRAPHQL_CODE.code(original.code)}
        if original.details:
            formatted["extensions"]["details"] = original.details
    elif _is_unexpected(error):
        formatted["message"] = INTERNAL_MESSAGE
        formatted["extensions"] = {"code": GRAPHQL_CODE.code(ErrorCode.INTERNAL)}
    elif "code" not in formatted.get("extensions", {}):  # graphql-core refused the request
        code = GRAPHQL_CODE.code(ErrorCode.INVALID_INPUT)
        formatted["extensions"] = {**formatted.get("extensions", {}), "code": code}
    return formatted


def _error_body(code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> bytes:
    extensions: dict[str, Any] = {"code": GRAPHQL_CODE.code(code)}
    if details:
        extensions["details"] = details
    return orjson.dumps({"errors": [{"message": message, "extensions": extensions}]})


def _http_error(status: int, code: ErrorCode, message: str) -> Response:
    return Response(_error_body(code, message), status_code=status, media_type="application/json")


def _too_large(max_bytes: int) -> Refusal:
    def refuse(size: int) -> tuple[int, str, bytes]:
        error = too_large(size, max_bytes)
        body = _error_body(error.code, error.message, error.details)
        return http_status(error.code), "application/json", body

    return refuse


class GraphQLApp(GraphQL[Context, None]):
    """strawberry's view, with protobench's errors, orjson and one path. The body size limit
    is the shared ``with_body_limit`` middleware's (see ``create_app``)."""

    def __init__(self, schema: strawberry.Schema, context: Context) -> None:
        introspection = context.service.settings.graphql_introspection
        # GraphiQL needs introspection to be of any use; without it the page is not served.
        super().__init__(schema, graphql_ide="graphiql" if introspection else None)
        self.context = context
        self._offline_ide = offline_page() if introspection else None

    @property
    def graphql_ide_html(self) -> str:
        """GraphiQL from this server's own copies of its scripts when they were fetched."""
        return self._offline_ide or super().graphql_ide_html

    async def get_context(self, request: Any, response: Any) -> Context:
        return self.context

    def decode_json(self, data: str | bytes) -> object:
        value = json_body.loads(data)  # NaN, Infinity, 1e999: INVALID_INPUT from coercion
        if not isinstance(value, dict | list):
            raise HTTPException(400, "the request body must be a JSON object")
        return value

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            response["errors"] = [format_error(e) for e in result.errors]
        if result.extensions:
            response["extensions"] = result.extensions
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        response = await self._answer(scope, receive)
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive) -> Response:
        if self._offline_ide and scope["path"].startswith(ASSETS_PREFIX):
            return asset_response(scope["path"])
        if scope["path"].rstrip("/") != PATH:
            return _http_error(404, ErrorCode.NOT_FOUND, f"no such path; GraphQL is at {PATH}")
        try:
            return await self.run(Request(scope, receive=receive))
        except HTTPException as exc:
            if exc.status_code == 405:  # HTTP's own refusal, named as HTTP names it
                body = {
                    "errors": [{"message": exc.reason, "extensions": {"code": METHOD_NOT_ALLOWED}}]
                }
                return Response(orjson.dumps(body), 405, {"allow": "GET, POST"}, "application/json")
            return _http_error(exc.status_code, from_http_status(exc.status_code), exc.reason)


def create_app(service: InferenceService, *, cache_size: int = CACHE_SIZE) -> ASGIApp:
    settings = service.settings
    app = GraphQLApp(build_schema(settings, cache_size=cache_size), Context(service))
    limit = max_body_bytes(settings)
    return with_body_limit(app, limit, _too_large(limit))


def serve(service: InferenceService, listen: Listen) -> None:
    serve_asgi(create_app(service), "graphql", service, listen)
