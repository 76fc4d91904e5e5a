"""Which column of a batch input is the id and which are the model's features, read by name.

A header that names the model's features is read by those names, in the model's order, so a
file whose columns come in another order still gets the right answers. Names match loosely:
case, spaces, underscores and a unit in parentheses are ignored (``Sepal Length (cm)`` is
``sepal_length``). A column named ``id`` is the id unless ``id_column`` names another. A file
with columns left over, or features missing, is refused with their names and the fix, never
read by position behind the user's back. A header that names none of the features (``a,b,c,d``)
is read by position when it has exactly as many columns as the model has features.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from protobench.core.errors import CoreError, ErrorCode

ID_COLUMN = "id"
_UNIT = re.compile(r"\([^)]*\)")
_SEPARATORS = re.compile(r"[\s_]+")


def normalise(name: str) -> str:
    """``Sepal Length (cm)``, ``sepal_length`` and ``SEPAL LENGTH`` all become ``sepallength``."""
    return _SEPARATORS.sub("", _UNIT.sub("", name)).casefold()


@dataclass(frozen=True)
class Layout:
    """Where a data row's id and features are: positions in the header."""

    width: int  # the header's column count, which every data row must have
    id_at: int | None  # None: each row's number is its id
    feature_at: tuple[int, ...]  # one position per model feature, in the model's order

    def features(self, cells: Sequence[object]) -> list[object]:
        return [cells[i] for i in self.feature_at]


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _refuse(source: str, problem: str, fix: str, details: dict[str, object]) -> CoreError:
    return CoreError(ErrorCode.INVALID_INPUT, f"{source}: {problem}; {fix}", details)


def _find(header: Sequence[str], name: str, source: str, flag: str) -> int:
    """The position of ``name``: exactly, or else by its normalised form if that is unique."""
    if name in header:
        return header.index(name)
    matches = [i for i, column in enumerate(header) if normalise(column) == normalise(name)]
    if len(matches) != 1:
        raise _refuse(
            source,
            f"{flag} {name!r} is not a column"
            if not matches
            else f"{name!r} matches columns {_quoted([header[i] for i in matches])}",
            f"the columns are {_quoted(header)}",
            {"column": name, "columns": list(header)},
        )
    return matches[0]


def _id_position(header: Sequence[str], id_column: str | None, source: str) -> int | None:
    if id_column is not None:
        return _find(header, id_column, source, "--id-column")
    named_id = [i for i, column in enumerate(header) if normalise(column) == ID_COLUMN]
    return named_id[0] if len(named_id) == 1 else None


def _by_name(
    header: Sequence[str], rest: list[int], features: Sequence[str], source: str
) -> tuple[int, ...] | None:
    """Feature positions when the header names the features; None when it names none of them."""
    wanted = {normalise(feature): feature for feature in features}
    positions: dict[str, list[int]] = {}
    for i in rest:
        positions.setdefault(normalise(header[i]), []).append(i)
    named = {key: at for key, at in positions.items() if key in wanted}
    if not named:
        return None
    doubled = [header[i] for at in named.values() if len(at) > 1 for i in at]
    missing = [feature for key, feature in wanted.items() if key not in named]
    leftover = [header[i] for key, at in positions.items() if key not in wanted for i in at]
    if doubled or missing or leftover:
        problems = [
            f"columns name the same feature: {_quoted(doubled)}" if doubled else "",
            f"features missing: {_quoted(missing)}" if missing else "",
            f"columns left over (neither a feature nor the id): {_quoted(leftover)}"
            if leftover
            else "",
        ]
        raise _refuse(
            source,
            "; ".join(problem for problem in problems if problem),
            _fix(features),
            {"missing": missing, "leftover": leftover, "doubled": doubled},
        )
    return tuple(named[normalise(feature)][0] for feature in features)


def _fix(features: Sequence[str]) -> str:
    shown = ",".join(features) if len(features) <= 8 else ",".join(features[:3]) + ",..."
    return (
        "name the id column with --id-column, and the feature columns in the model's order "
        f"with --features-columns (the model's features: {shown})"
    )


def resolve(
    header: Sequence[str],
    features: Sequence[str],
    *,
    source: str,
    id_column: str | None = None,
    feature_columns: Sequence[str] | None = None,
) -> Layout:
    """Decide the layout of a file with ``header`` for a model whose inputs are ``features``."""
    header = [str(column) for column in header]
    id_at = _id_position(header, id_column, source)
    if feature_columns:
        if len(feature_columns) != len(features):
            raise _refuse(
                source,
                f"--features-columns names {len(feature_columns)} columns, the model takes "
                f"{len(features)}",
                _fix(features),
                {"expected_features": len(features)},
            )
        at = tuple(_find(header, name, source, "--features-columns") for name in feature_columns)
        return Layout(len(header), id_at, at)
    rest = [i for i in range(len(header)) if i != id_at]
    by_name = _by_name(header, rest, features, source)
    if by_name is not None:
        return Layout(len(header), id_at, by_name)
    if len(rest) != len(features):
        others = [header[i] for i in rest]
        raise _refuse(
            source,
            f"the model takes {len(features)} features and the header names none of them; "
            f"{len(rest)} columns are left once the id is set aside: {_quoted(others)}",
            _fix(features),
            {"expected_features": len(features), "columns": others},
        )
    return Layout(len(header), id_at, tuple(rest))
