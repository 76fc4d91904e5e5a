"""Stored batch predictions in one SQL table, any SQLAlchemy URL (SQLite by default)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    MetaData,
    Select,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.prediction_store import (
    Row,
    check_job,
    not_stored,
    now_iso,
    split_id,
    stored_prediction_id,
)
from protobench.core.types import StoredPrediction

metadata = MetaData()
predictions = Table(
    "predictions",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("input_id", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),  # the row's place in the input, from 1
    Column("model", String(64), nullable=False),
    Column("version", String(64), nullable=False),
    Column("label", String(200), nullable=False),
    Column("probabilities", Text, nullable=False),  # a JSON list, in the model's label order
    Column("created_at", String(32), nullable=False),  # ISO 8601, UTC
)


def _sqlite_write_ahead(connection: Any, _: object) -> None:
    """WAL with synchronous=NORMAL: a commit survives the process being killed (what resuming
    relies on) without an fsync per chunk; only a power cut may lose the last chunks, which a
    resumed job then writes again. Readers (a server) do not block the writer."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PredictionStore:
    """Opens its engine on first use; the table is created if missing."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def _open(self) -> Engine:
        with self._lock:
            if self._engine is None:
                engine = create_engine(self.url)
                if engine.dialect.name == "sqlite":
                    event.listen(engine, "connect", _sqlite_write_ahead)
                metadata.create_all(engine)
                self._engine = engine
            return self._engine

    def done_ids(self, job: str) -> set[str]:
        with self._open().connect() as connection:
            query = select(predictions.c.input_id).where(predictions.c.job == job)
            return set(connection.scalars(query))

    def write(self, job: str, model: str, version: str, rows: Iterable[Row]) -> int:
        """Insert one chunk in one transaction: all of its rows or none."""
        created_at = now_iso()
        values = [
            {
                "job": job,
                "input_id": row.input_id,
                "position": row.position,
                "model": model,
                "version": version,
                "label": row.label,
                "probabilities": orjson.dumps(row.probabilities).decode(),
                "created_at": created_at,
            }
            for row in rows
        ]
        if values:
            try:
                with self._open().begin() as connection:
                    connection.execute(insert(predictions), values)
            except IntegrityError as exc:  # rows this run had not seen when it started
                raise CoreError(
                    ErrorCode.FAILED_PRECONDITION,
                    f"job {job!r} is being written by another process: wait for that run to "
                    "finish, then rerun this one to resume it",
                    {"job": job},
                ) from exc
        return len(values)

    def get(self, prediction_id: str) -> StoredPrediction:
        job, input_id = split_id(prediction_id)
        query = select(predictions).where(
            predictions.c.job == job, predictions.c.input_id == input_id
        )
        found = self._read(query)
        if not found:
            raise not_stored(prediction_id)
        return found[0]

    def page(self, job: str, limit: int, offset: int) -> list[StoredPrediction]:
        """``limit`` rows from ``offset``, in input order; the service has run ``check_page``."""
        query = (
            select(predictions)
            .where(predictions.c.job == check_job(job))
            .order_by(predictions.c.position, predictions.c.input_id)
            .limit(limit)
            .offset(offset)
        )
        return self._read(query)

    def _read(self, query: Select[Any]) -> list[StoredPrediction]:
        try:
            with self._open().connect() as connection:
                rows = connection.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise CoreError(
                ErrorCode.NOT_READY, "the predictions database cannot be read; retry later"
            ) from exc
        return [
            StoredPrediction(
                prediction_id=stored_prediction_id(r["job"], r["input_id"]),
                job=r["job"],
                input_id=r["input_id"],
                model=r["model"],
                version=r["version"],
                label=r["label"],
                probabilities=orjson.loads(r["probabilities"]),
                created_at=r["created_at"],
            )
            for r in rows
        ]
