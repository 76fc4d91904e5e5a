"""Depth, alias and field-count limits on a GraphQL document, measured with every fragment
spread expanded, in time linear in the document's text.

Each fragment's totals are computed once and reused at every spread of it. strawberry's
``QueryDepthLimiter`` and ``MaxAliasesLimiter`` walk a fragment again at each spread, so a
fragment that spreads the next one twice doubles their work per level: 30 such levels (about
300 tokens, under every other limit) held a server for minutes. Here those 30 levels are 31
fragments measured once each, and the query is refused because it would select 2^30 fields.

The variables get a limit of their own, checked before graphql-core coerces them: coercion
walks every list and number in Python (about 10 µs each on the shared test machine), so a
7.6 MiB body of 100,000 rows held the event loop for 6.8 s before the core could say that
1000 rows is the limit. ``input_nodes`` counts them first and stops at the limit. The body
limit is cut to what the largest useful request takes (``max_body_bytes``), since parsing the
JSON is the one cost left that grows with the body.

The depth is counted as strawberry counts it, so its limit keeps its meaning: the nesting
level of the deepest field, root fields at 0, the subtree of an introspection field (``__…``)
not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, prod

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from protobench.core.catalogue import CATALOGUE
from protobench.core.errors import ErrorCode
from protobench.core.settings import Settings
from servers.graphql_spec import GRAPHQL_CODE


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_fields: int


@dataclass(frozen=True)
class Totals:
    """What a selection set selects once every fragment in it is expanded."""

    depth: int
    aliases: int
    fields: int


NOTHING = Totals(0, 0, 0)


class ExpandedSizes:
    """Totals of selection sets, each fragment's computed once however often it is spread.

    An unknown fragment or one already being measured (a cycle) counts as nothing here:
    graphql-core's own rules refuse those documents."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.measured: dict[str, Totals] = {}
        self.measuring: set[str] = set()

    def of(self, selection_set: SelectionSetNode | None) -> Totals:
        depth = aliases = fields = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                below = self.of(selection.selection_set)
                fields += 1 + below.fields
                aliases += (selection.alias is not None) + below.aliases
                if selection.selection_set and not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + below.depth)
                continue
            if isinstance(selection, InlineFragmentNode):
                part = self.of(selection.selection_set)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                part = self.fragment(selection.name.value)
            depth = max(depth, part.depth)
            aliases += part.aliases
            fields += part.fields
        return Totals(depth, aliases, fields)

    def fragment(self, name: str) -> Totals:
        known = self.measured.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.measuring:
            return NOTHING
        self.measuring.add(name)
        totals = self.of(definition.selection_set)
        self.measuring.discard(name)
        self.measured[name] = totals
        return totals


def _refusal(message: str, details: dict[str, int]) -> GraphQLError:
    code = GRAPHQL_CODE.code(ErrorCode.INVALID_INPUT)
    return GraphQLError(message, extensions={"code": code, "details": details})


def refusals(document_sizes: list[tuple[str, Totals]], limits: Limits) -> list[GraphQLError]:
    """The limit errors for the operations' totals, in the words clients already match."""
    errors = []
    for name, totals in document_sizes:
        if totals.depth > limits.max_depth:
            errors.append(
                _refusal(
                    f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                    {"depth": totals.depth, "limit": limits.max_depth},
                )
            )
        if totals.fields > limits.max_fields:
            errors.append(
                _refusal(
                    f"'{name}' selects {totals.fields} fields once its fragments are expanded;"
                    f" the limit is {limits.max_fields}",
                    {"fields": totals.fields, "limit": limits.max_fields},
                )
            )
    aliases = sum(totals.aliases for _, totals in document_sizes)
    if aliases > limits.max_aliases:
        errors.append(
            _refusal(
                f"{aliases} aliases found. Allowed: {limits.max_aliases}",
                {"aliases": aliases, "limit": limits.max_aliases},
            )
        )
    return errors


def limits_rule(limits: Limits) -> type[ValidationRule]:
    """A validation rule that measures the whole document when it is created."""

    class ExpandedLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            sizes = ExpandedSizes(
                {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
            )
            operations = [
                (d.name.value if d.name else "anonymous", sizes.of(d.selection_set))
                for d in definitions
                if isinstance(d, OperationDefinitionNode)
            ]
            for error in refusals(operations, limits):
                context.report_error(error)

    return ExpandedLimits


# The widest row any model takes (digits: 64 pixels); a predict of max_batch such rows is the
# biggest input the core accepts. The reserve covers the other arguments' values.
WIDEST_ROW = max(prod(recipe.input.shape[1:]) for recipe in CATALOGUE.values())
RESERVED_NODES = 100


def max_input_nodes(max_batch: int) -> int:
    """Lists and scalars in the largest variables the core could use: the rows list, each
    row and its numbers, and a reserve for the other arguments."""
    return 1 + max_batch * (1 + WIDEST_ROW) + RESERVED_NODES


def input_nodes(value: object, limit: int) -> int:
    """The lists, objects and scalars in a JSON value, counted up to just past ``limit``."""
    count = 0
    pending = [value]
    while pending:
        item = pending.pop()
        count += 1
        if isinstance(item, list | dict):
            children = item.values() if isinstance(item, dict) else item
            if count + len(children) > limit:
                return limit + 1
            pending.extend(children)
        elif count > limit:
            return count
    return count


NUMBER_BYTES = 25  # the longest JSON float and its comma: -2.2250738585072014e-308,
BODY_RESERVE = 64 * 1024  # JSON punctuation, the operation name, the other arguments


def max_body_bytes(settings: Settings) -> int:
    """GraphQL's body limit: the shared ``max_body_bytes``, or less when even the largest
    image (base64) or the most numbers an operation can use need less."""
    image = 4 * ceil(settings.max_image_bytes / 3)
    numbers = max_input_nodes(settings.max_batch) * NUMBER_BYTES
    useful = max(image, numbers) + settings.graphql_max_query_bytes + BODY_RESERVE
    return min(settings.max_body_bytes, useful)
