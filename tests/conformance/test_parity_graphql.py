"""The GraphQL schema's root fields are exactly the core operations."""

from __future__ import annotations

from protobench.core.service import OPERATIONS
from protobench.core.settings import Settings
from servers.graphql_schema import OPERATIONS as GRAPHQL_OPERATIONS
from servers.graphql_server import build_schema


def test_graphql_fields_cover_the_core_operations(settings: Settings) -> None:
    assert set(GRAPHQL_OPERATIONS) == set(OPERATIONS)
    schema = build_schema(settings)._schema
    assert schema.query_type is not None and schema.mutation_type is not None
    fields = set(schema.query_type.fields) | set(schema.mutation_type.fields)
    assert fields == set(GRAPHQL_OPERATIONS.values())
    mutations = {"delete_version", "set_strategy", "promote", "rollback", "feedback"}
    assert set(schema.mutation_type.fields) == {GRAPHQL_OPERATIONS[op] for op in mutations}
