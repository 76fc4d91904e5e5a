"""Stored batch predictions in Redis, the in-memory database: ``--out redis://host:6379/0``.

Per job, two keys:
- ``protobench:job:<job>:rows``, a hash: input id -> the row as JSON (model, version, label,
  probabilities, position, created_at);
- ``protobench:job:<job>:order``, a sorted set: input id scored by its position in the input
  file, so a page comes back in input order.

A chunk is written in one MULTI/EXEC transaction with HSETNX (a stored id is never written
twice), so a resumed job skips what is stored and a replayed chunk cannot duplicate a row, as
with SQL. Redis keeps the rows in memory; whether they survive a restart of redis-server is
its persistence setting (RDB snapshots or the AOF), not ours.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import orjson

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.prediction_store import (
    Row,
    check_job,
    not_stored,
    now_iso,
    split_id,
)
from protobench.core.types import StoredPrediction

PREFIX = "protobench:job:"


def _rows_key(job: str) -> str:
    return f"{PREFIX}{job}:rows"


def _order_key(job: str) -> str:
    return f"{PREFIX}{job}:order"


class RedisPredictionStore:
    """Connects on first use (redis-py's pool is thread-safe)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: Any = None
        self._lock = threading.Lock()

    def _redis(self) -> Any:
        with self._lock:
            if self._client is None:
                import redis

                self._client = redis.Redis.from_url(self.url, socket_timeout=10)
            return self._client

    def done_ids(self, job: str) -> set[str]:
        return {key.decode() for key in self._redis().hkeys(_rows_key(check_job(job)))}

    def write(self, job: str, model: str, version: str, rows: Iterable[Row]) -> int:
        """One chunk in one transaction; returns the rows written (stored ids are kept)."""
        created_at = now_iso()
        chunk = list(rows)
        if not chunk:
            return 0
        pipe = self._redis().pipeline(transaction=True)
        for row in chunk:
            document = {
                "model": model,
                "version": version,
                "label": row.label,
                "probabilities": row.probabilities,
                "position": row.position,
                "created_at": created_at,
            }
            pipe.hsetnx(_rows_key(job), row.input_id, orjson.dumps(document))
            pipe.zadd(_order_key(job), {row.input_id: row.position}, nx=True)
        results = pipe.execute()
        return sum(1 for written in results[::2] if written)

    def get(self, prediction_id: str) -> StoredPrediction:
        job, input_id = split_id(prediction_id)
        raw = self._read(lambda r: r.hget(_rows_key(job), input_id))
        if raw is None:
            raise not_stored(prediction_id)
        return _stored(job, input_id, raw)

    def page(self, job: str, limit: int, offset: int) -> list[StoredPrediction]:
        """``limit`` rows from ``offset``, in input order; the service has run ``check_page``."""
        check_job(job)

        def read(r: Any) -> list[tuple[str, bytes]]:
            ids = [i.decode() for i in r.zrange(_order_key(job), offset, offset + limit - 1)]
            values = r.hmget(_rows_key(job), ids) if ids else []
            return [(i, v) for i, v in zip(ids, values, strict=True) if v is not None]

        return [_stored(job, input_id, raw) for input_id, raw in self._read(read)]

    def _read(self, call: Any) -> Any:
        import redis

        try:
            return call(self._redis())
        except redis.RedisError as exc:
            raise CoreError(
                ErrorCode.NOT_READY, "the predictions database cannot be read; retry later"
            ) from exc


def _stored(job: str, input_id: str, raw: bytes) -> StoredPrediction:
    row = orjson.loads(raw)
    return StoredPrediction(
        prediction_id=f"{job}/{input_id}",
        job=job,
        input_id=input_id,
        model=row["model"],
        version=row["version"],
        label=row["label"],
        probabilities=row["probabilities"],
        created_at=row["created_at"],
    )
