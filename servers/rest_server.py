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

import logging
from typing import Any

import orjson
from fastapi import Body, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, StrictFloat
from starlette.exceptions import HTTPException as StarletteHTTPException

import protobench
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.core.types import (
    FeedbackResponse,
    Health,
    ModelMetadata,
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
from servers.asgi_runner import Refusal, serve_asgi, with_body_limit
from servers.listen import Listen
from servers.rest_xml import with_xml

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/png", "image/jpeg")

# Which route carries each core operation; the parity test checks it against the app.
OPERATIONS: dict[str, tuple[str, str]] = {
    "list_models": ("GET", "/models"),
    "get_model": ("GET", "/models/{name}"),
    "predict": ("POST", "/models/{name}/predict"),
    "predict_image": ("PUT", "/models/{name}/image"),
    "delete_version": ("DELETE", "/models/{name}/versions/{version}"),
    "health": ("GET", "/health/ready"),
    "get_strategy": ("GET", "/models/{name}/strategy"),
    "set_strategy": ("PUT", "/models/{name}/strategy"),
    "promote": ("POST", "/models/{name}/strategy/promote"),
    "rollback": ("POST", "/models/{name}/strategy/rollback"),
    "feedback": ("POST", "/feedback"),
    "get_prediction": ("GET", "/predictions/{job}/{input_id:path}"),
    "list_predictions": ("GET", "/jobs/{job}/predictions"),
}

# REST-only: HTTP has a verb for a partial change (the other protocols send the whole strategy).
EXTRA_OPERATIONS: dict[str, tuple[str, str]] = {
    "update_strategy": ("PATCH", "/models/{name}/strategy"),
}


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


def _error(
    code: ErrorCode, message: str, details: dict[str, Any] | None = None, status: int | None = None
) -> JSONResponse:
    body = {"code": code.value, "message": message, "details": details or {}}
    return JSONResponse(body, status_code=status or http_status(code))


def _error_responses(*codes: ErrorCode) -> dict[int | str, dict[str, Any]]:
    return {http_status(c): {"model": ErrorBody, "description": c.value} for c in codes}


def _validation_message(exc: RequestValidationError) -> tuple[int, str, list[dict[str, Any]]]:
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return HTTP_MALFORMED_BODY, "the request body is not valid JSON", errors
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"]) or "request"
    return 422, f"{where}: {first['msg']}", errors


def create_app(service: InferenceService) -> FastAPI:
    # fastapi-offline: Swagger UI at /docs and ReDoc at /redoc from files in that package, not
    # from a CDN, so the docs render on a machine without internet.
    app = FastAPIOffline(
        title="protobench REST API",
        version=protobench.__version__,
        description="Iris and digits classifiers served over REST. The same core serves gRPC, "
        "GraphQL and JSON-RPC.",
    )

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
        status, message, errors = _validation_message(exc)
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

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(ErrorCode.INTERNAL, "internal error; the server log has the details")

    @app.get("/health/live", response_model=Health, tags=["health"])
    async def live() -> Health:
        return service.health()

    @app.get(
        "/health/ready",
        response_model=Health,
        tags=["health"],
        responses={503: {"model": Health, "description": "models are still loading"}},
    )
    async def ready(response: Response) -> Health:
        health = service.health()
        if not health.ready:
            response.status_code = http_status(ErrorCode.NOT_READY)
        return health

    @app.get("/models", tags=["models"], responses=_error_responses(ErrorCode.NOT_READY))
    async def list_models() -> list[ModelMetadata]:
        return service.list_models()

    @app.get(
        "/models/{name}",
        tags=["models"],
        responses=_error_responses(ErrorCode.NOT_FOUND, ErrorCode.NOT_READY),
    )
    async def get_model(name: str) -> ModelMetadata:
        return service.get_model(name)

    @app.post(
        "/models/{name}/predict",
        tags=["predict"],
        responses={
            HTTP_MALFORMED_BODY: {"model": ErrorBody, "description": "body is not JSON"},
            **_error_responses(
                ErrorCode.INVALID_INPUT,
                ErrorCode.NOT_FOUND,
                ErrorCode.TOO_LARGE,
                ErrorCode.NOT_READY,
            ),
        },
    )
    async def predict(name: str, body: PredictBody) -> PredictResponse:
        return await service.apredict(name, body.instances, body.version, body.caller)

    @app.put(
        "/models/{name}/image",
        tags=["predict"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES
                },
            }
        },
        responses={
            415: {"model": ErrorBody, "description": "body is not image/png or image/jpeg"},
            **_error_responses(
                ErrorCode.INVALID_INPUT,
                ErrorCode.NOT_FOUND,
                ErrorCode.TOO_LARGE,
                ErrorCode.NOT_READY,
            ),
        },
    )
    async def predict_image(
        name: str, request: Request, version: str | None = None
    ) -> PredictResponse:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in IMAGE_TYPES:
            raise CoreErrorWithStatus(
                415, f"Content-Type must be image/png or image/jpeg, not {content_type!r}"
            )
        return await service.apredict_image(name, await request.body(), version)

    @app.delete(
        "/models/{name}/versions/{version}",
        status_code=204,
        response_class=Response,
        tags=["models"],
        responses=_error_responses(
            ErrorCode.NOT_FOUND, ErrorCode.FAILED_PRECONDITION, ErrorCode.NOT_READY
        ),
    )
    async def delete_version(name: str, version: str) -> Response:
        service.delete_version(name, version)
        return Response(status_code=204)

    add_strategy_routes(app, service)
    return app


def add_strategy_routes(app: FastAPI, service: InferenceService) -> None:
    """Deployment strategies, feedback and stored batch predictions (docs/strategies.md)."""
    found_or_not_ready = _error_responses(ErrorCode.NOT_FOUND, ErrorCode.NOT_READY)
    settles = _error_responses(
        ErrorCode.NOT_FOUND, ErrorCode.FAILED_PRECONDITION, ErrorCode.NOT_READY
    )
    checked = _error_responses(ErrorCode.INVALID_INPUT, ErrorCode.NOT_FOUND, ErrorCode.NOT_READY)

    @app.get("/models/{name}/strategy", tags=["strategies"], responses=found_or_not_ready)
    async def get_strategy(name: str) -> StrategyStatus:
        return service.get_strategy(name)

    @app.put("/models/{name}/strategy", tags=["strategies"], responses=checked)
    async def set_strategy(name: str, body: StrategyConfig) -> StrategyStatus:
        return service.set_strategy(name, body)

    @app.patch("/models/{name}/strategy", tags=["strategies"], responses=checked)
    async def update_strategy(
        name: str,
        body: dict[str, Any] = Body(  # noqa: B008  (FastAPI's way to describe a body)
            description="Only the StrategyConfig fields to change; the rest are kept. The "
            "merged strategy is checked like a new one and its statistics start afresh.",
            examples=[{"canary_percent": 25}],
        ),
    ) -> StrategyStatus:
        return service.update_strategy(name, body)

    @app.post("/models/{name}/strategy/promote", tags=["strategies"], responses=settles)
    async def promote(name: str) -> StrategyStatus:
        return service.promote(name)

    @app.post("/models/{name}/strategy/rollback", tags=["strategies"], responses=settles)
    async def rollback(name: str) -> StrategyStatus:
        return service.rollback(name)

    @app.post("/feedback", tags=["strategies"], responses=checked)
    async def feedback(body: FeedbackBody) -> FeedbackResponse:
        return service.feedback(body.prediction_id, body.reward)

    @app.get("/predictions/{job}/{input_id:path}", tags=["batch"], responses=checked)
    async def get_prediction(job: str, input_id: str) -> StoredPrediction:
        return service.get_prediction(f"{job}/{input_id}")

    @app.get("/jobs/{job}/predictions", tags=["batch"], responses=checked)
    async def list_predictions(
        job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]:
        return service.list_predictions(job, limit, offset)


def _too_large(max_bytes: int) -> Refusal:
    def refuse(size: int) -> tuple[int, str, bytes]:
        body = {
            "code": ErrorCode.TOO_LARGE.value,
            "message": f"the request body is {size} bytes or more; the limit is {max_bytes}",
            "details": {"bytes": size, "limit": max_bytes},
        }
        return http_status(ErrorCode.TOO_LARGE), "application/json", orjson.dumps(body)

    return refuse


def serve(service: InferenceService, listen: Listen) -> None:
    max_bytes = service.settings.max_body_bytes
    app = with_body_limit(create_app(service), max_bytes, _too_large(max_bytes))
    serve_asgi(with_xml(app), "rest", service, listen)
