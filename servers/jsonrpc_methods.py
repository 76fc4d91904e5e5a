"""The JSON-RPC methods, defined once: each core operation's named params, result and call.

The dispatcher (``servers.jsonrpc_dispatch``) validates params and encodes results with these
definitions, and the OpenRPC document (``servers.jsonrpc_openrpc``) is generated from them, so
what the server accepts and what it describes cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictStr,
    TypeAdapter,
    WithJsonSchema,
)

from protobench.core.errors import ErrorCode
from protobench.core.prediction_store import MAX_PAGE, PAGE_DEFAULT
from protobench.core.service import InferenceService
from protobench.core.types import (
    DeleteVersionResponse,
    FeedbackResponse,
    Health,
    ModelMetadata,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)
from servers.adapter_common import decode_base64

Base64Text = Annotated[StrictStr, WithJsonSchema({"type": "string", "contentEncoding": "base64"})]
# The strategy's fields as sent: the core checks them (the same message on every protocol).
StrategyFields = Annotated[dict[str, Any], WithJsonSchema(StrategyConfig.model_json_schema())]

ModelName = Annotated[StrictStr, Field(description="Model name: iris or digits.")]
OptionalVersion = Annotated[
    StrictStr | None, Field(description="Model version; the model's default when omitted.")
]


class Params(BaseModel):
    """Named params of one method: unknown names and wrong types are -32602 Invalid params."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    pass


class GetModelParams(Params):
    name: ModelName


class PredictParams(Params):
    model: ModelName
    instances: list[list[StrictFloat]] = Field(
        description="One row of features per instance (4 for iris, 64 for digits).",
        examples=[[[5.1, 3.5, 1.4, 0.2]]],
    )
    version: OptionalVersion = None
    caller: StrictStr | None = Field(
        default=None, description="A/B stickiness key: one caller always meets one version."
    )


class PredictImageParams(Params):
    model: ModelName
    image: Base64Text = Field(description="A PNG or JPEG file, base64-encoded (digits model).")
    version: OptionalVersion = None


class DeleteVersionParams(Params):
    model: ModelName
    version: StrictStr = Field(description="The version to unload; not the default one.")


class ModelParams(Params):
    model: ModelName


class SetStrategyParams(Params):
    model: ModelName
    strategy: StrategyFields


class FeedbackParams(Params):
    prediction_id: StrictStr = Field(description="The prediction_id of an earlier answer.")
    reward: StrictFloat = Field(description="0 (bad) to 1 (good).")


class GetPredictionParams(Params):
    prediction_id: StrictStr = Field(description="'<job>/<input id>' of a stored prediction.")


class ListPredictionsParams(Params):
    job: StrictStr
    limit: int = Field(
        default=PAGE_DEFAULT, strict=True, description=f"1-{MAX_PAGE} rows per page."
    )
    offset: int = Field(default=0, strict=True, description="Rows to skip, in input order.")


Run = Callable[[InferenceService, Any], Awaitable[Any]]


@dataclass(frozen=True)
class MethodSpec:
    """One JSON-RPC method: what it takes, what it returns, which core errors it can raise."""

    name: str
    summary: str
    params: type[Params]
    result_name: str
    result: TypeAdapter[Any]
    run: Run
    errors: tuple[ErrorCode, ...] = field(default=())


async def _list_models(service: InferenceService, _: NoParams) -> list[ModelMetadata]:
    return service.list_models()


async def _get_model(service: InferenceService, p: GetModelParams) -> ModelMetadata:
    return service.get_model(p.name)


async def _predict(service: InferenceService, p: PredictParams) -> PredictResponse:
    return await service.apredict(p.model, p.instances, p.version, p.caller)


async def _predict_image(service: InferenceService, p: PredictImageParams) -> PredictResponse:
    return await service.apredict_image(p.model, decode_base64(p.image), p.version)


async def _delete_version(
    service: InferenceService, p: DeleteVersionParams
) -> DeleteVersionResponse:
    return service.delete_version(p.model, p.version)


async def _health(service: InferenceService, _: NoParams) -> Health:
    return service.health()


async def _get_strategy(service: InferenceService, p: ModelParams) -> StrategyStatus:
    return service.get_strategy(p.model)


async def _set_strategy(service: InferenceService, p: SetStrategyParams) -> StrategyStatus:
    return service.set_strategy(p.model, p.strategy)


async def _promote(service: InferenceService, p: ModelParams) -> StrategyStatus:
    return service.promote(p.model)


async def _rollback(service: InferenceService, p: ModelParams) -> StrategyStatus:
    return service.rollback(p.model)


async def _feedback(service: InferenceService, p: FeedbackParams) -> FeedbackResponse:
    return service.feedback(p.prediction_id, p.reward)


async def _get_prediction(service: InferenceService, p: GetPredictionParams) -> StoredPrediction:
    return await service.aget_prediction(p.prediction_id)


async def _list_predictions(
    service: InferenceService, p: ListPredictionsParams
) -> list[StoredPrediction]:
    return await service.alist_predictions(p.job, p.limit, p.offset)


_SETTLE_ERRORS = (ErrorCode.NOT_FOUND, ErrorCode.FAILED_PRECONDITION, ErrorCode.NOT_READY)
_PREDICT_ERRORS = (
    ErrorCode.INVALID_INPUT,
    ErrorCode.NOT_FOUND,
    ErrorCode.TOO_LARGE,
    ErrorCode.NOT_READY,
)

METHODS: tuple[MethodSpec, ...] = (
    MethodSpec(
        "list_models",
        "Metadata of every model: versions, input shape, labels.",
        NoParams,
        "models",
        TypeAdapter(list[ModelMetadata]),
        _list_models,
        (ErrorCode.NOT_READY,),
    ),
    MethodSpec(
        "get_model",
        "Metadata of one model.",
        GetModelParams,
        "model",
        TypeAdapter(ModelMetadata),
        _get_model,
        (ErrorCode.NOT_FOUND, ErrorCode.NOT_READY),
    ),
    MethodSpec(
        "predict",
        "Classify one or more rows of features.",
        PredictParams,
        "prediction",
        TypeAdapter(PredictResponse),
        _predict,
        _PREDICT_ERRORS,
    ),
    MethodSpec(
        "predict_image",
        "Classify a picture of a handwritten digit.",
        PredictImageParams,
        "prediction",
        TypeAdapter(PredictResponse),
        _predict_image,
        _PREDICT_ERRORS,
    ),
    MethodSpec(
        "delete_version",
        "Unload one version of a model (the default version cannot be deleted).",
        DeleteVersionParams,
        "deleted",
        TypeAdapter(DeleteVersionResponse),
        _delete_version,
        (ErrorCode.NOT_FOUND, ErrorCode.FAILED_PRECONDITION, ErrorCode.NOT_READY),
    ),
    MethodSpec(
        "health",
        "Liveness and readiness of this replica (ready is false while models load).",
        NoParams,
        "health",
        TypeAdapter(Health),
        _health,
    ),
    *(
        MethodSpec(name, summary, params, "status", TypeAdapter(StrategyStatus), run, errors)
        for name, summary, params, run, errors in (
            (
                "get_strategy",
                "A model's deployment strategy and per-version statistics.",
                ModelParams,
                _get_strategy,
                (ErrorCode.NOT_FOUND, ErrorCode.NOT_READY),
            ),
            (
                "set_strategy",
                "Replace a model's strategy; its statistics start afresh.",
                SetStrategyParams,
                _set_strategy,
                (ErrorCode.INVALID_INPUT, ErrorCode.NOT_FOUND, ErrorCode.NOT_READY),
            ),
            (
                "promote",
                "shadow or canary: the candidate becomes the only version.",
                ModelParams,
                _promote,
                _SETTLE_ERRORS,
            ),
            (
                "rollback",
                "shadow or canary: the stable version becomes the only version.",
                ModelParams,
                _rollback,
                _SETTLE_ERRORS,
            ),
        )
    ),
    MethodSpec(
        "feedback",
        "A reward in [0, 1] for an earlier prediction; bandits learn from it.",
        FeedbackParams,
        "feedback",
        TypeAdapter(FeedbackResponse),
        _feedback,
        (ErrorCode.INVALID_INPUT, ErrorCode.NOT_FOUND, ErrorCode.NOT_READY),
    ),
    MethodSpec(
        "get_prediction",
        "One prediction a batch job stored.",
        GetPredictionParams,
        "prediction",
        TypeAdapter(StoredPrediction),
        _get_prediction,
        (ErrorCode.INVALID_INPUT, ErrorCode.NOT_FOUND, ErrorCode.NOT_READY),
    ),
    MethodSpec(
        "list_predictions",
        "A page of a batch job's stored predictions, in the order of the input file.",
        ListPredictionsParams,
        "predictions",
        TypeAdapter(list[StoredPrediction]),
        _list_predictions,
        (ErrorCode.INVALID_INPUT, ErrorCode.NOT_READY),
    ),
)
