"""The GraphQL schema in process: its types mirror the core's, its resolvers are bound to
graphql-core, and field selection reaches the core."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type
from pydantic import BaseModel

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.core.types import (
    DeleteVersionResponse,
    FeedbackResponse,
    Health,
    ModelMetadata,
    Prediction,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
    TensorSpec,
    VersionStats,
)
from servers.adapter_common import decode_base64 as decode_image
from servers.graphql_schema import Context
from servers.graphql_server import build_schema

CORE_TYPES: list[type[BaseModel]] = [
    TensorSpec, ModelMetadata, Prediction, PredictResponse, DeleteVersionResponse, Health,
    StrategyConfig, VersionStats, StrategyStatus, FeedbackResponse, StoredPrediction,
]  # fmt: skip


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


@pytest.mark.parametrize("core_type", CORE_TYPES, ids=lambda t: t.__name__)
def test_object_types_have_the_core_fields(settings: Settings, core_type: type[BaseModel]) -> None:
    graphql_type = build_schema(settings)._schema.get_type(core_type.__name__)
    assert isinstance(graphql_type, GraphQLObjectType)
    assert set(graphql_type.fields) == {_camel(name) for name in core_type.model_fields}


def test_root_resolvers_are_called_by_graphql_core_directly(settings: Settings) -> None:
    schema = build_schema(settings)._schema
    assert schema.query_type is not None and schema.mutation_type is not None
    for root in (schema.query_type, schema.mutation_type):
        for name, field in root.fields.items():
            assert field.resolve is not None
            assert field.resolve.__module__ == "servers.graphql_schema", name
            # graphql-core passes arguments by their GraphQL names: they must be Python names too
            parameters = field.resolve.__code__.co_varnames[: field.resolve.__code__.co_argcount]
            assert set(field.args) <= set(parameters), name


class SpyService(InferenceService):
    """Records what the core was asked for."""

    calls: list[bool]

    async def apredict(self, *args: Any, probabilities: bool = True, **kwargs: Any) -> Any:
        self.calls.append(probabilities)
        return await super().apredict(*args, probabilities=probabilities, **kwargs)


@pytest.fixture
def spy(settings: Settings) -> SpyService:
    service = SpyService(settings)
    service.calls = []
    service.load()
    return service


def _execute(service: InferenceService, query: str) -> dict[str, Any]:
    schema = build_schema(service.settings)
    result = asyncio.run(schema.execute(query, context_value=Context(service)))
    assert not result.errors, result.errors
    assert result.data is not None
    return result.data


ROWS = "[[5.1, 3.5, 1.4, 0.2]]"


@pytest.mark.parametrize(
    ("selection", "computed"),
    [
        ("predictions { label }", False),
        ("model servedBy", False),
        ("predictions { label probabilities }", True),
        ("...P", True),
        ("... on PredictResponse { predictions { probabilities } }", True),
        ("predictions { label } again: predictions { probabilities }", True),
    ],
)
def test_probabilities_are_computed_only_when_selected(
    spy: SpyService, selection: str, computed: bool
) -> None:
    fragment = "fragment P on PredictResponse { predictions { probabilities } }"
    query = f'{{ predict(model: "iris", instances: {ROWS}) {{ {selection} }} }}'
    if "...P" in selection:
        query += fragment
    _execute(spy, query)
    assert spy.calls == [computed]


def test_two_predict_fields_decide_separately(spy: SpyService) -> None:
    query = (
        f'{{ a: predict(model: "iris", instances: {ROWS}) {{ predictions {{ label }} }}'
        f' b: predict(model: "iris", instances: {ROWS}) {{ predictions {{ probabilities }} }} }}'
    )
    data = _execute(spy, query)
    assert sorted(spy.calls) == [False, True]
    assert len(data["b"]["predictions"][0]["probabilities"]) == 3


def test_floats_survive_the_schema_bit_for_bit(service: InferenceService) -> None:
    query = f'{{ predict(model: "iris", instances: {ROWS}) {{ predictions {{ probabilities }} }} }}'
    data = _execute(service, query)
    expected = service.predict("iris", [[5.1, 3.5, 1.4, 0.2]]).predictions[0].probabilities
    assert data["predict"]["predictions"][0]["probabilities"] == expected


@pytest.mark.parametrize("text", ["not base64!", "QUJDRA", "QU JD"])
def test_bad_base64_is_invalid_input(text: str) -> None:
    with pytest.raises(CoreError) as exc:
        decode_image(text)
    assert exc.value.code == ErrorCode.INVALID_INPUT


def test_base64_round_trips() -> None:
    assert decode_image(base64.b64encode(b"\x89PNG\0\1").decode()) == b"\x89PNG\0\1"


def test_instances_are_a_typed_list_of_float_lists(settings: Settings) -> None:
    schema = build_schema(settings)._schema
    assert schema.query_type is not None
    instances = schema.query_type.fields["predict"].args["instances"].type
    assert str(instances) == "[[Float!]!]!"
    assert get_named_type(instances).name == "Float"
