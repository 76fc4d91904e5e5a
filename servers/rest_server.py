"""REST adapter: FastAPI routes that decode, call the core service, and encode.

Routes (all JSON unless said):
  GET    /health/live                      liveness (always 200 while the process answers)
  GET    /health/ready                     200 once models are loaded, 503 before
  GET    /models                           metadata of every model
  GET    /models/{name}                    metadata of one model
  POST   /models/{name}/predict            {"instances": [[...], ...], "version": "optional"}
  PUT    /models/{name}/image?version=     raw PNG/JPEG body, Content-Type image/png|image/jpeg
  DELETE /models/{name}/versions/{version} 204
  GET    /models/{name}/strategy           the model's deployment strategy and per-version stats
  PUT    /models/{name}/strategy           replace it (body: a StrategyConfig)
  PATCH  /models/{name}/strategy           change some of its fields, e.g. {"canary_percent": 25}
  POST   /models/{name}/strategy/promote   shadow/canary: the candidate takes over
  POST   /models/{name}/strategy/rollback  shadow/canary: the stable version takes over
  POST   /feedback                         {"prediction_id": "...", "reward": 0..1}
  GET    /predictions/{job}/{input_id}     one stored batch prediction
  GET    /jobs/{job}/predictions?limit=&offset=   a page of a batch job's predictions
Every error is a JSON body {"code", "message", "details"} with the status from the error table.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson
from fastapi import Body, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    TypeAdapter,
    ValidationError,
)
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

import protobench
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.prediction_store import PAGE_DEFAULT, stored_prediction_id
from protobench.core.service import InferenceService
from protobench.core.types import (
    FeedbackResponse,
    Health,
    ModelMetadata,
    PredictAnswer,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)
from protobench.error_table import (
    HTTP_MALFORMED_BODY,
    METHOD_NOT_ALLOWED,
    from_http_status,
    http_status,
)
from servers.adapter_common import (
    INTERNAL_MESSAGE,
    too_large,
    validation_errors,
    validation_message,
)
from servers.asgi_runner import ASGIApp, Refusal, client_gone, serve_asgi, with_body_limit
from servers.direct_route import DirectRoute, takes_only_path
from servers.listen import Listen
from servers.rest_xml import with_xml

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/png", "image/jpeg")
JSON_TYPE = "application/json"


class PredictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instances: list[list[StrictFloat]] = Field(
        description="One row of features per instance (4 for iris, 64 for digits).",
        examples=[[[5.1, 3.5, 1.4, 0.2]]],
    )
    version: str | None = Field(
        default=None, description="Model version; the model's strategy chooses if omitted."
    )
    caller: str | None = Field(
        default=None, description="A/B stickiness key: one caller always meets one version."
    )


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prediction_id: str = Field(description="The prediction_id of an earlier answer.")
    reward: StrictFloat = Field(description="0 (bad) to 1 (good).")


class ErrorBody(BaseModel):
    code: ErrorCode
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class CoreErrorWithStatus(CoreError):
    """An input error whose HTTP status is HTTP's own idiom (415), not the table's."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(ErrorCode.INVALID_INPUT, message)
        self.status = status


def _service(request: Request) -> InferenceService:
    service: InferenceService = request.app.state.service
    return service


# -- the endpoints: decode (FastAPI, from the signature), call the core ----------------------


async def live(request: Request) -> Health:
    return _service(request).health()


async def ready(request: Request) -> Response | Health:
    health = _service(request).health()
    if health.ready:
        return health
    status = http_status(ErrorCode.NOT_READY)
    return Response(_HEALTH.dump_json(health), status, media_type=JSON_TYPE)


async def list_models(request: Request) -> list[ModelMetadata]:
    return _service(request).list_models()


async def get_model(request: Request, name: str) -> ModelMetadata:
    return _service(request).get_model(name)


async def predict(request: Request, name: str) -> Response:
    """The body is parsed and validated by pydantic in one pass from the bytes (FastAPI's body
    parameter takes ``json.loads``, then validation, then its dependency solver: a fifth of a
    predict); ``PredictBody`` is still what the OpenAPI document declares. The answer is the
    core's plain fields written by orjson, with no ``PredictResponse`` built and dumped."""
    raw = await request.body()
    if not raw:  # as FastAPI words it: an absent body is a missing field, not bad JSON
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required"}]
        )
    try:
        body = PredictBody.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None
    service = _service(request)
    answer = await service.apredict(name, body.instances, body.version, body.caller, plain=True)
    return Response(predict_body(answer), media_type=JSON_TYPE)


def predict_body(answer: PredictAnswer) -> bytes:
    return orjson.dumps(answer.fields())


async def predict_image(request: Request, name: str, version: str | None = None) -> PredictResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in IMAGE_TYPES:
        raise CoreErrorWithStatus(
            415, f"Content-Type must be image/png or image/jpeg, not {content_type!r}"
        )
    return await _service(request).apredict_image(name, await request.body(), version)


async def delete_version(request: Request, name: str, version: str) -> None:
    _service(request).delete_version(name, version)


async def get_strategy(request: Request, name: str) -> StrategyStatus:
    return _service(request).get_strategy(name)


async def set_strategy(
    request: Request, name: str, body: Annotated[dict[str, Any], Body()]
) -> StrategyStatus:
    """The body is checked by the core (the same message on every protocol)."""
    return _service(request).set_strategy(name, body)


async def update_strategy(
    request: Request,
    name: str,
    body: Annotated[
        dict[str, Any],
        Body(
            description="Only the StrategyConfig fields to change; the rest are kept. The "
            "merged strategy is checked like a new one and its statistics start afresh.",
            examples=[{"canary_percent": 25}],
        ),
    ],
) -> StrategyStatus:
    return _service(request).update_strategy(name, body)


async def promote(request: Request, name: str) -> StrategyStatus:
    return _service(request).promote(name)


async def rollback(request: Request, name: str) -> StrategyStatus:
    return _service(request).rollback(name)


async def feedback(request: Request, body: FeedbackBody) -> FeedbackResponse:
    return _service(request).feedback(body.prediction_id, body.reward)


async def get_prediction(request: Request, job: str, input_id: str) -> StoredPrediction:
    return await _service(request).aget_prediction(stored_prediction_id(job, input_id))


async def list_predictions(
    request: Request, job: str, limit: int = PAGE_DEFAULT, offset: int = 0
) -> list[StoredPrediction]:
    return await _service(request).alist_predictions(job, limit, offset)


# -- the operations table: every route, what it returns and which errors it documents --------

Endpoint = Callable[..., Awaitable[Any]]
_PREDICT_ERRORS = (
    ErrorCode.INVALID_INPUT,
    ErrorCode.NOT_FOUND,
    ErrorCode.TOO_LARGE,
    ErrorCode.NOT_READY,
)
_CHECKED = (ErrorCode.INVALID_INPUT, ErrorCode.NOT_FOUND, ErrorCode.NOT_READY)
_FOUND = (ErrorCode.NOT_FOUND, ErrorCode.NOT_READY)
_SETTLES = (ErrorCode.NOT_FOUND, ErrorCode.FAILED_PRECONDITION, ErrorCode.NOT_READY)
_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES},
    }
}
# Bodies read by the handler itself (not a FastAPI body parameter) are declared by reference;
# ``_with_body_schemas`` adds their schemas to the document's components.
_COMPONENTS = "#/components/schemas/"
_PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {JSON_TYPE: {"schema": {"$ref": f"{_COMPONENTS}PredictBody"}}},
    }
}
_STRATEGY_BODY = {
    "requestBody": {
        "required": True,
        "content": {JSON_TYPE: {"schema": {"$ref": f"{_COMPONENTS}StrategyConfig"}}},
    }
}


@dataclass(frozen=True)
class RestRoute:
    """One route: the core operation it carries ("" for liveness), how it is reached, what
    it answers (encoded once, by pydantic, straight to JSON bytes) and what it documents."""

    operation: str
    method: str
    path: str
    endpoint: Endpoint
    result: Any  # the answer's type; None: 204 No Content
    tag: str
    errors: tuple[ErrorCode, ...] = ()
    extra_responses: dict[int | str, dict[str, Any]] = field(default_factory=dict)
    openapi_extra: dict[str, Any] | None = None


REST_ONLY = frozenset({"update_strategy"})
ROUTES: tuple[RestRoute, ...] = (
    # the predict route first: the router tries routes in order
    RestRoute(
        "predict",
        "POST",
        "/models/{name}/predict",
        predict,
        PredictResponse,
        "predict",
        _PREDICT_ERRORS,
        {HTTP_MALFORMED_BODY: {"model": ErrorBody, "description": "body is not JSON"}},
        _PREDICT_BODY,
    ),
    RestRoute(
        "predict_image",
        "PUT",
        "/models/{name}/image",
        predict_image,
        PredictResponse,
        "predict",
        _PREDICT_ERRORS,
        {415: {"model": ErrorBody, "description": "body is not image/png or image/jpeg"}},
        _IMAGE_BODY,
    ),
    RestRoute("", "GET", "/health/live", live, Health, "health"),
    RestRoute(
        "health",
        "GET",
        "/health/ready",
        ready,
        Health,
        "health",
        extra_responses={503: {"model": Health, "description": "models are still loading"}},
    ),
    RestRoute(
        "list_models",
        "GET",
        "/models",
        list_models,
        list[ModelMetadata],
        "models",
        (ErrorCode.NOT_READY,),
    ),
    RestRoute("get_model", "GET", "/models/{name}", get_model, ModelMetadata, "models", _FOUND),
    RestRoute(
        "delete_version",
        "DELETE",
        "/models/{name}/versions/{version}",
        delete_version,
        None,
        "models",
        _SETTLES,
    ),
    RestRoute(
        "get_strategy",
        "GET",
        "/models/{name}/strategy",
        get_strategy,
        StrategyStatus,
        "strategies",
        _FOUND,
    ),
    RestRoute(
        "set_strategy",
        "PUT",
        "/models/{name}/strategy",
        set_strategy,
        StrategyStatus,
        "strategies",
        _CHECKED,
        openapi_extra=_STRATEGY_BODY,
    ),
    RestRoute(
        "update_strategy",
        "PATCH",
        "/models/{name}/strategy",
        update_strategy,
        StrategyStatus,
        "strategies",
        _CHECKED,
    ),
    RestRoute(
        "promote",
        "POST",
        "/models/{name}/strategy/promote",
        promote,
        StrategyStatus,
        "strategies",
        _SETTLES,
    ),
    RestRoute(
        "rollback",
        "POST",
        "/models/{name}/strategy/rollback",
        rollback,
        StrategyStatus,
        "strategies",
        _SETTLES,
    ),
    RestRoute("feedback", "POST", "/feedback", feedback, FeedbackResponse, "strategies", _CHECKED),
    RestRoute(
        "get_prediction",
        "GET",
        "/predictions/{job}/{input_id:path}",
        get_prediction,
        StoredPrediction,
        "batch",
        _CHECKED,
    ),
    RestRoute(
        "list_predictions",
        "GET",
        "/jobs/{job}/predictions",
        list_predictions,
        list[StoredPrediction],
        "batch",
        _CHECKED,
    ),
)

# Which route carries each core operation; the parity test checks it against the app.
OPERATIONS: dict[str, tuple[str, str]] = {
    r.operation: (r.method, r.path) for r in ROUTES if r.operation and r.operation not in REST_ONLY
}
# REST-only: HTTP has a verb for a partial change (the other protocols send the whole strategy).
EXTRA_OPERATIONS: dict[str, tuple[str, str]] = {
    r.operation: (r.method, r.path) for r in ROUTES if r.operation in REST_ONLY
}
_HEALTH = TypeAdapter(Health)


def _encoded(route: RestRoute) -> Endpoint:
    """The endpoint, answering its core value as JSON bytes pydantic writes in one pass
    (FastAPI would otherwise dump it to a dict, validate that again and encode it with
    ``json``: more than a third of a predict)."""
    endpoint = route.endpoint
    if route.result is None:

        @functools.wraps(endpoint)
        async def no_content(**kwargs: Any) -> Response:
            await endpoint(**kwargs)
            return Response(status_code=204)

        return no_content
    adapter: TypeAdapter[Any] = TypeAdapter(route.result)

    @functools.wraps(endpoint)
    async def encoded(**kwargs: Any) -> Response:
        value = await endpoint(**kwargs)
        if isinstance(value, Response):
            return value
        return Response(adapter.dump_json(value), media_type=JSON_TYPE)

    return encoded


def _error(
    code: ErrorCode, message: str, details: dict[str, Any] | None = None, status: int | None = None
) -> JSONResponse:
    body = {"code": code.value, "message": message, "details": details or {}}
    return JSONResponse(body, status_code=status or http_status(code))


def _error_responses(*codes: ErrorCode) -> dict[int | str, dict[str, Any]]:
    return {http_status(c): {"model": ErrorBody, "description": c.value} for c in codes}


def _add_route(app: FastAPI, route: RestRoute) -> None:
    app.router.add_api_route(
        route.path,
        _encoded(route),
        methods=[route.method],
        response_model=route.result,
        status_code=204 if route.result is None else None,
        response_class=Response if route.result is None else JSONResponse,
        tags=[route.tag],
        responses={**route.extra_responses, **_error_responses(*route.errors)},
        openapi_extra=route.openapi_extra,
        route_class_override=DirectRoute if takes_only_path(route.path, route.endpoint) else None,
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CoreErrorWithStatus)
    async def status_error(_: Request, exc: CoreErrorWithStatus) -> JSONResponse:
        return _error(exc.code, exc.message, exc.details, exc.status)

    @app.exception_handler(CoreError)
    async def core_error(_: Request, exc: CoreError) -> JSONResponse:
        response = _error(exc.code, exc.message, exc.details)
        if exc.code is ErrorCode.UNAUTHENTICATED:
            response.headers["www-authenticate"] = "Bearer"  # RFC 6750
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc.errors())
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            status, message = HTTP_MALFORMED_BODY, "the request body is not valid JSON"
        else:
            status, message = 422, validation_message(errors)
        return _error(ErrorCode.INVALID_INPUT, message, {"errors": errors}, status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:  # HTTP's idiom: its own reason, and the methods in Allow
            body = {"code": METHOD_NOT_ALLOWED, "message": str(exc.detail), "details": {}}
            return JSONResponse(body, status_code=405, headers=exc.headers)
        response = _error(
            from_http_status(exc.status_code), str(exc.detail), status=exc.status_code
        )
        response.headers.update(exc.headers or {})
        return response

    app.add_exception_handler(ClientDisconnect, client_gone)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(ErrorCode.INTERNAL, INTERNAL_MESSAGE)


def create_app(service: InferenceService) -> FastAPI:
    # fastapi-offline: Swagger UI at /docs and ReDoc at /redoc from files in that package, not
    # from a CDN, so the docs render on a machine without internet.
    app = FastAPIOffline(
        title="protobench REST API",
        version=protobench.__version__,
        description="Iris and digits classifiers served over REST. The same core serves gRPC, "
        "GraphQL and JSON-RPC.",
    )
    app.state.service = service
    _add_error_handlers(app)
    documentation = list(app.router.routes)
    for route in ROUTES:
        _add_route(app, route)
    # The router tries routes in order: the API's first, so a predict is not first tested
    # against the documentation's routes (a static-files mount among them).
    app.router.routes[:] = [r for r in app.router.routes if r not in documentation] + documentation
    _with_body_schemas(app, (PredictBody, StrategyConfig))
    return app


def _with_body_schemas(app: FastAPI, models: tuple[type[BaseModel], ...]) -> None:
    _, schemas = models_json_schema(
        [(model, "validation") for model in models], ref_template=_COMPONENTS + "{model}"
    )
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # FastAPI keeps this dict and returns it on later calls
        document.setdefault("components", {}).setdefault("schemas", {}).update(schemas["$defs"])
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _refuse_too_large(max_bytes: int) -> Refusal:
    def refuse(size: int) -> tuple[int, str, bytes]:
        error = too_large(size, max_bytes)
        body = {"code": error.code.value, "message": error.message, "details": error.details}
        return http_status(error.code), JSON_TYPE, orjson.dumps(body)

    return refuse


def limited_app(service: InferenceService) -> ASGIApp:
    """The app as served: a body over ``max_body_bytes`` is refused before FastAPI reads it,
    and a caller that asks for XML gets it (``servers.rest_xml``)."""
    max_bytes = service.settings.max_body_bytes
    return with_xml(with_body_limit(create_app(service), max_bytes, _refuse_too_large(max_bytes)))


def serve(service: InferenceService, listen: Listen) -> None:
    serve_asgi(limited_app(service), "rest", service, listen)
