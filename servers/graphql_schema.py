"""The GraphQL schema: object types mirroring the core types, and resolvers that call the core.

strawberry *declares* the schema from the classes below; graphql-core *executes* it.
Resolvers return the core's pydantic values unchanged: graphql-core reads fields by attribute
name, so the object types only declare the shape and nothing is copied per request
(``tests/servers/graphql`` holds each object type to the fields of its core type).

The root resolvers are plain graphql-core resolvers (``bind_resolvers``): strawberry reads
their signatures to declare the arguments, so ``info`` is annotated as ``strawberry.Info``,
but at run time graphql-core passes its own ``GraphQLResolveInfo``. Both carry ``.context``;
only ``wants_probabilities`` reads more (the field nodes and fragments).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.types.base import StrawberryObjectDefinition

from protobench.core.prediction_store import PAGE_DEFAULT
from protobench.core.service import InferenceService
from protobench.core.types import (
    DeleteVersionResponse,
    FeedbackResponse,
    Health,
    ModelMetadata,
    PredictResponse,
    StoredPrediction,
    StrategyStatus,
)
from servers.adapter_common import decode_base64

# Which root field carries each core operation; the parity test checks it against the schema.
OPERATIONS: dict[str, str] = {
    "list_models": "models",
    "get_model": "model",
    "predict": "predict",
    "predict_image": "predictImage",
    "delete_version": "deleteVersion",
    "health": "health",
    "get_strategy": "strategy",
    "set_strategy": "setStrategy",
    "promote": "promote",
    "rollback": "rollback",
    "feedback": "feedback",
    "get_prediction": "storedPrediction",
    "list_predictions": "storedPredictions",
}


@dataclass(frozen=True)
class Context:
    """What every resolver reaches through ``info.context``; one instance for the server's life."""

    service: InferenceService


Info = strawberry.Info[Context, None]
Resolver = TypeVar("Resolver", bound=Callable[..., Any])


@strawberry.type(name="TensorSpec", description="The input a model expects.")
class TensorSpecType:
    name: str
    dtype: str
    shape: list[int] = strawberry.field(description="-1 is the batch axis.")


@strawberry.type(name="ModelMetadata")
class ModelMetadataType:
    name: str
    task: str = strawberry.field(description="tabular-classification or image-classification.")
    description: str
    versions: list[str] = strawberry.field(description="Versions served, oldest first.")
    default_version: str = strawberry.field(description="Used when a request names none.")
    input: TensorSpecType
    labels: list[str] = strawberry.field(description="Class names, in probabilities order.")


@strawberry.type(name="Prediction")
class PredictionType:
    label: str
    probabilities: list[float] = strawberry.field(
        description="One per class, in the order of `labels`. Not computed unless selected."
    )


@strawberry.type(name="PredictResponse")
class PredictResponseType:
    model: str
    version: str
    served_by: str = strawberry.field(description="The replica that answered.")
    predictions: list[PredictionType]
    prediction_id: str = strawberry.field(description="Names this answer for `feedback`.")
    arm: str = strawberry.field(description="Why this version answered (strategy arm).")


@strawberry.type(name="DeleteVersionResponse")
class DeleteVersionResponseType:
    model: str
    deleted_version: str
    versions: list[str] = strawberry.field(description="Versions still served.")


@strawberry.type(name="Health")
class HealthType:
    live: bool
    ready: bool
    served_by: str
    models: list[str] = strawberry.field(description="Models loaded and ready to serve.")


@strawberry.type(name="StrategyConfig", description="A model's deployment strategy.")
class StrategyConfigType:
    kind: str = strawberry.field(description="single, shadow, ab, canary or bandit.")
    versions: list[str]
    weights: list[float]
    canary_percent: float
    max_error_rate: float
    min_calls: int
    bandit: str = strawberry.field(description="epsilon_greedy or thompson.")
    epsilon: float
    seed: int


@strawberry.input(name="StrategyInput", description="Unset fields take the core's defaults.")
class StrategyInput:
    kind: str
    versions: list[str] | None = None
    weights: list[float] | None = None
    canary_percent: float | None = None
    max_error_rate: float | None = None
    min_calls: int | None = None
    bandit: str | None = None
    epsilon: float | None = None
    seed: int | None = None


@strawberry.type(name="VersionStats")
class VersionStatsType:
    version: str
    calls: int
    errors: int
    latency_ms_mean: float
    feedback: int
    reward_mean: float
    shadow_calls: int
    shadow_errors: int
    shadow_agreement: float
    shadow_latency_ms_mean: float


@strawberry.type(name="StrategyStatus")
class StrategyStatusType:
    model: str
    strategy: StrategyConfigType
    stats: list[VersionStatsType]
    event: str
    shadow_dropped: int


@strawberry.type(name="FeedbackResponse")
class FeedbackResponseType:
    prediction_id: str
    model: str
    version: str
    reward: float


@strawberry.type(name="StoredPrediction", description="One row a batch job stored.")
class StoredPredictionType:
    prediction_id: str
    job: str
    input_id: str
    model: str
    version: str
    label: str
    probabilities: list[float]
    created_at: str


def strategy_from_input(strategy: dict[str, Any]) -> dict[str, Any]:
    """graphql-core hands the input object over as a dict keyed by GraphQL (camelCase) names."""
    return {
        "".join(f"_{c.lower()}" if c.isupper() else c for c in name): value
        for name, value in strategy.items()
        if value is not None
    }


def _selects(
    selection_set: SelectionSetNode | None,
    name: str,
    fragments: dict[str, FragmentDefinitionNode],
) -> bool:
    """Whether the field ``name`` is selected anywhere below, through fragments too.

    ``@skip``/``@include`` are not evaluated: a conditionally selected field counts as
    selected, which only costs the computation, never a wrong answer.
    """
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value == name:
            return True
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            below = fragment.selection_set if fragment is not None else None
        else:
            below = cast(FieldNode | InlineFragmentNode, selection).selection_set
        if _selects(below, name, fragments):
            return True
    return False


def wants_probabilities(info: Info) -> bool:
    raw = cast(GraphQLResolveInfo[Any], info)  # see the module docstring
    return any(
        _selects(node.selection_set, "probabilities", raw.fragments) for node in raw.field_nodes
    )


def root_field(graphql_type: object, description: str) -> Callable[[Resolver], Resolver]:
    """``strawberry.field`` typed for mypy: the GraphQL type is declared, the Python
    annotation stays the core type the resolver really returns."""
    decorator = strawberry.field(graphql_type=graphql_type, description=description)
    return cast(Callable[[Resolver], Resolver], decorator)


@strawberry.type
class Query:
    @root_field(list[ModelMetadataType], "Every served model.")
    def models(self, info: Info) -> list[ModelMetadata]:
        return info.context.service.list_models()

    @root_field(ModelMetadataType, "One model's metadata.")
    def model(self, info: Info, name: str) -> ModelMetadata:
        return info.context.service.get_model(name)

    @root_field(
        PredictResponseType, "Classify rows of features (4 per row for iris, 64 for digits)."
    )
    async def predict(
        self,
        info: Info,
        model: str,
        instances: list[list[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        return await info.context.service.apredict(
            model, instances, version, caller, probabilities=wants_probabilities(info)
        )

    @root_field(PredictResponseType, "Classify a PNG or JPEG image, sent as base64 (digits only).")
    async def predict_image(
        self, info: Info, model: str, image: str, version: str | None = None
    ) -> PredictResponse:
        return await info.context.service.apredict_image(
            model, decode_base64(image), version, probabilities=wants_probabilities(info)
        )

    @root_field(HealthType, "Liveness, readiness, loaded models.")
    def health(self, info: Info) -> Health:
        return info.context.service.health()

    @root_field(StrategyStatusType, "A model's deployment strategy and per-version statistics.")
    def strategy(self, info: Info, model: str) -> StrategyStatus:
        return info.context.service.get_strategy(model)

    @root_field(StoredPredictionType, "One stored batch prediction; id is '<job>/<input id>'.")
    async def stored_prediction(self, info: Info, id: str) -> StoredPrediction:
        return await info.context.service.aget_prediction(id)

    @root_field(list[StoredPredictionType], "A page of a batch job's predictions, in input order.")
    async def stored_predictions(
        self, info: Info, job: str, limit: int = PAGE_DEFAULT, offset: int = 0
    ) -> list[StoredPrediction]:
        return await info.context.service.alist_predictions(job, limit, offset)


@strawberry.type
class Mutation:
    @root_field(
        DeleteVersionResponseType, "Unload a version (not the default one) from this server."
    )
    def delete_version(self, info: Info, model: str, version: str) -> DeleteVersionResponse:
        return info.context.service.delete_version(model, version)

    @root_field(StrategyStatusType, "Replace a model's strategy; its statistics start afresh.")
    def set_strategy(self, info: Info, model: str, strategy: StrategyInput) -> StrategyStatus:
        fields = strategy_from_input(cast(dict[str, Any], strategy))  # see strategy_from_input
        return info.context.service.set_strategy(model, fields)

    @root_field(StrategyStatusType, "shadow or canary: the candidate becomes the only version.")
    def promote(self, info: Info, model: str) -> StrategyStatus:
        return info.context.service.promote(model)

    @root_field(StrategyStatusType, "shadow or canary: the stable version becomes the only one.")
    def rollback(self, info: Info, model: str) -> StrategyStatus:
        return info.context.service.rollback(model)

    @root_field(FeedbackResponseType, "A reward in [0, 1] for an earlier prediction's id.")
    def feedback(self, info: Info, id: str, reward: float) -> FeedbackResponse:
        return info.context.service.feedback(id, reward)


def bind_resolvers(schema: strawberry.Schema) -> None:
    """Let graphql-core call the root resolvers above directly, without strawberry's wrapper.

    The wrapper converts arguments (nothing to convert here: strings and lists of floats),
    builds a ``strawberry.Info`` and runs field extensions (none here); it costs about a third
    of a one-row predict (docs/graphql.md).
    """
    graphql_schema = schema._schema
    for root in (graphql_schema.query_type, graphql_schema.mutation_type):
        assert root is not None
        definition = schema.get_type_by_name(root.name)
        assert isinstance(definition, StrawberryObjectDefinition)
        for field in definition.fields:
            assert field.base_resolver is not None, f"{root.name}.{field.name} has no resolver"
            name = schema.config.name_converter.get_graphql_name(field)
            root.fields[name].resolve = field.base_resolver.wrapped_func
