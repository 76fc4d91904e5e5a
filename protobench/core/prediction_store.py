"""Stored batch predictions: one SQL table, any SQLAlchemy URL (SQLite by default;
protobench.core.sql_store), or Redis (protobench.core.redis_store); ``open_store`` picks one.

A row per (job, input id) — the primary key — so a resumed job skips the ids it already wrote
and a replayed chunk cannot duplicate a row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.types import StoredPrediction

JOB_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_PAGE = 1000
# The largest offset a 64-bit signed integer holds: SQLite, PostgreSQL and protobuf's int64
# stop there, so a larger one is the caller's mistake, not a database overflow.
MAX_OFFSET = 2**63 - 1
# How many rows a page of stored predictions has when the caller names no limit.
PAGE_DEFAULT = 100


def stored_prediction_id(job: str, input_id: str) -> str:
    """The id of one stored row, the only place its format is written: ``<job>/<input id>``."""
    return f"{job}/{input_id}"


@dataclass(frozen=True)
class Row:
    input_id: str
    label: str
    probabilities: list[float]
    position: int = 0


def check_job(job: str) -> str:
    if not JOB_PATTERN.fullmatch(job):
        raise CoreError(
            ErrorCode.INVALID_INPUT,
            f"job names are 1-64 letters, digits, '_', '.' or '-'; got {job!r}",
            {"job": job},
        )
    return job


def split_id(prediction_id: str) -> tuple[str, str]:
    """``'<job>/<input id>'`` -> (job, input id)."""
    job, _, input_id = prediction_id.partition("/")
    if not job or not input_id:
        raise CoreError(
            ErrorCode.INVALID_INPUT,
            f"a stored prediction id is '<job>/<input id>', got {prediction_id!r}",
            {"prediction_id": prediction_id},
        )
    return job, input_id


def not_stored(prediction_id: str) -> CoreError:
    return CoreError(
        ErrorCode.NOT_FOUND,
        f"no stored prediction {prediction_id!r}",
        {"prediction_id": prediction_id},
    )


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= MAX_OFFSET:
        raise CoreError(
            ErrorCode.INVALID_INPUT,
            f"limit must be 1-{MAX_PAGE} and offset 0-{MAX_OFFSET}",
            {"limit": limit, "offset": offset},
        )


def open_store(url: str) -> Store:
    """The store ``url`` names: ``redis://`` (or ``rediss://``) is Redis, anything else a
    SQLAlchemy URL."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        from protobench.core.redis_store import RedisPredictionStore

        return RedisPredictionStore(url)
    # imported here: SQLAlchemy costs 0.45 s of CPU at every server start, used or not
    from protobench.core.sql_store import PredictionStore

    return PredictionStore(url)


class Store(Protocol):
    """What the batch job and the service need from a prediction store."""

    url: str

    def done_ids(self, job: str) -> set[str]: ...

    def write(self, job: str, model: str, version: str, rows: Iterable[Row]) -> int: ...

    def get(self, prediction_id: str) -> StoredPrediction: ...

    def page(self, job: str, limit: int, offset: int) -> list[StoredPrediction]: ...


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
