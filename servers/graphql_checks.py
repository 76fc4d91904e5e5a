"""What a query document goes through before it runs: limits, then parse and validate once.

One extension does it all, keyed by the query *text*. strawberry's ``ParserCache`` and
``ValidationCache`` do the same job in two extensions, and ``ValidationCache`` keys its cache
by the parsed document, whose hash graphql-core recomputes over the whole tree on every
request; with the limits as three more extensions, strawberry's per-extension hook machinery
and that hash cost more than this whole module (measured in benchmarks/graphql_overhead.py,
recorded in docs/graphql.md). The depth and alias rules are strawberry's own
(``QueryDepthLimiter``, ``MaxAliasesLimiter``); the token limit is graphql-core's parser
option that strawberry's ``MaxTokensLimiter`` sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import NoSchemaIntrospectionCustomRule, specified_rules
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.schema.schema import validate_document

from protobench.core.errors import ErrorCode
from protobench.core.settings import Settings
from protobench.error_table import ERROR_TABLE

CACHE_SIZE = 256  # distinct query texts kept parsed and validated


class CheckedDocuments:
    """Parsed and validated documents by query text, with the limits from the settings."""

    def __init__(self, settings: Settings, *, cache_size: int = CACHE_SIZE) -> None:
        self.max_bytes = settings.graphql_max_query_bytes
        self.max_tokens = settings.graphql_max_tokens
        rules: list[type[ASTValidationRule]] = [
            *specified_rules,
            *QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules,
            *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
        ]
        if not settings.graphql_introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.rules = tuple(rules)
        self.parse = lru_cache(maxsize=cache_size)(self._parse)
        self.validate = lru_cache(maxsize=cache_size)(self._validate)

    def check_size(self, query: str) -> None:
        size = len(query.encode())
        if size > self.max_bytes:
            raise GraphQLError(
                f"the query document is {size} bytes; the limit is {self.max_bytes}",
                extensions={
                    "code": ERROR_TABLE[ErrorCode.TOO_LARGE].graphql_code,
                    "details": {"bytes": size, "limit": self.max_bytes},
                },
            )

    def _parse(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.max_tokens)

    def _validate(self, query: str, schema: GraphQLSchema) -> list[GraphQLError]:
        return validate_document(schema, self.parse(query), self.rules)


class DocumentChecks(SchemaExtension):
    """Plugs ``CheckedDocuments`` into strawberry's parse and validate steps."""

    def __init__(self, documents: CheckedDocuments) -> None:
        self.documents = documents

    def on_operation(self) -> Iterator[None]:
        self.documents.check_size(self.execution_context.query or "")
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
