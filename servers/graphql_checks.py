"""What a query document goes through before it runs: limits, then parse and validate once.

One extension does it all, keyed by the query *text*. strawberry's ``ParserCache`` and
``ValidationCache`` do the same job in two extensions, and ``ValidationCache`` keys its cache
by the parsed document, whose hash graphql-core recomputes over the whole tree on every
request; with the limits as three more extensions, strawberry's per-extension hook machinery
and that hash cost more than this whole module (measured in benchmarks/graphql_overhead.py,
recorded in docs/graphql.md). The token limit is graphql-core's parser option that
strawberry's ``MaxTokensLimiter`` sets; the depth, alias and field limits are
``graphql_limits``'s, measured on the expanded document in linear time, and checked before
any other rule so that a refused document costs nothing more. With introspection off, no
error suggests a name ("Did you mean …?") either.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import NoSchemaIntrospectionCustomRule, specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from protobench.core.errors import ErrorCode
from protobench.core.settings import Settings
from servers.graphql_limits import (
    WIDEST_ROW,
    Limits,
    input_nodes,
    limits_rule,
    max_input_nodes,
)
from servers.graphql_spec import GRAPHQL_CODE

CACHE_SIZE = 256  # distinct query texts kept parsed and validated


class CheckedDocuments:
    """Parsed and validated documents by query text, with the limits from the settings."""

    def __init__(self, settings: Settings, *, cache_size: int = CACHE_SIZE) -> None:
        self.max_bytes = settings.graphql_max_query_bytes
        self.max_tokens = settings.graphql_max_tokens
        self.limits = limits_rule(
            Limits(
                max_depth=settings.graphql_max_depth,
                max_aliases=settings.graphql_max_aliases,
                max_fields=settings.graphql_max_fields,
            )
        )
        # strawberry's two rules are the ones its own validation adds to graphql-core's.
        rules = [*specified_rules, MaybeNullValidationRule, OneOfInputValidationRule]
        if not settings.graphql_introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.rules: tuple[type[ASTValidationRule], ...] = tuple(rules)
        self.hide_suggestions = not settings.graphql_introspection
        self.max_input_nodes = max_input_nodes(settings.max_batch)
        self.parse = lru_cache(maxsize=cache_size)(self._parse)
        self.validate = lru_cache(maxsize=cache_size)(self._validate)

    def check_size(self, query: str) -> None:
        size = len(query.encode())
        if size > self.max_bytes:
            raise GraphQLError(
                f"the query document is {size} bytes; the limit is {self.max_bytes}",
                extensions={
                    "code": GRAPHQL_CODE.code(ErrorCode.TOO_LARGE),
                    "details": {"bytes": size, "limit": self.max_bytes},
                },
            )

    def check_variables(self, variables: dict[str, Any] | None) -> None:
        nodes = input_nodes(variables or {}, self.max_input_nodes)
        if nodes > self.max_input_nodes:
            raise GraphQLError(
                f"the variables hold more than {self.max_input_nodes} lists and values, more "
                f"than any operation can use (max_batch rows of {WIDEST_ROW} numbers)",
                extensions={
                    "code": GRAPHQL_CODE.code(ErrorCode.TOO_LARGE),
                    "details": {"limit": self.max_input_nodes},
                },
            )

    def _parse(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.max_tokens)

    def _validate(self, query: str, schema: GraphQLSchema) -> list[GraphQLError]:
        document = self.parse(query)
        refused = validate(schema, document, [self.limits])
        if refused:
            return refused
        return validate(schema, document, self.rules, hide_suggestions=self.hide_suggestions)


class QuietExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor with graphql-core's suggestions off, so that a variable of the
    wrong shape is refused without naming the fields it might have meant (the schema's
    names stay private while introspection is off)."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)


class DocumentChecks(SchemaExtension):
    """Plugs ``CheckedDocuments`` into strawberry's parse and validate steps."""

    def __init__(self, documents: CheckedDocuments) -> None:
        self.documents = documents

    def on_operation(self) -> Iterator[None]:
        self.documents.check_size(self.execution_context.query or "")
        self.documents.check_variables(self.execution_context.variables)
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query:
            context.graphql_document = self.documents.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.query is not None  # parsing refused a missing query already
        context.pre_execution_errors = self.documents.validate(
            context.query, context.schema._schema
        )
        yield
