"""A batch prediction job: a CSV or Parquet file scored in chunks with the fast path, rows
stored in SQL.

Each chunk is written in one transaction, keyed by (job, input id): a job that is interrupted
(Ctrl-C, a kill, a crash) and run again skips the ids already stored and writes the rest, so
the table ends with every row exactly once.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.prediction_store import PredictionStore, Row, check_job
from protobench.core.service import InferenceService

Progress = Callable[[int], None]  # called with the rows handled by each chunk (stored or skipped)


@dataclass(frozen=True)
class JobResult:
    job: str
    rows: int  # rows in the input
    written: int  # rows scored and stored by this run
    skipped: int  # rows already stored by an earlier run


class Record(NamedTuple):
    input_id: str
    position: int  # the data row's number, from 1
    cells: list[Any]  # strings from CSV, numbers from Parquet


PARQUET_SUFFIXES = (".parquet", ".pq")
PARQUET_BATCH_ROWS = 4096


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def _id_position(path: Path, header: list[str], id_column: str | None) -> int | None:
    if id_column is None:
        return None
    if id_column not in header:
        raise CoreError(
            ErrorCode.INVALID_INPUT,
            f"{path} has no column {id_column!r}; columns: {', '.join(header)}",
        )
    return header.index(id_column)


def _numbered(rows: Iterator[list[Any]], id_at: int | None) -> Iterator[Record]:
    for number, cells in enumerate(rows, start=1):
        if not cells:
            continue
        if id_at is None:
            yield Record(str(number), number, cells)
        else:
            yield Record(str(cells[id_at]), number, cells[:id_at] + cells[id_at + 1 :])


def _csv_rows(path: Path, id_column: str | None) -> Iterator[Record]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise CoreError(ErrorCode.INVALID_INPUT, f"{path} is empty; it needs a header row")
        yield from _numbered(reader, _id_position(path, header, id_column))


def _parquet_file(path: Path) -> Any:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise CoreError(
            ErrorCode.INVALID_INPUT,
            "reading Parquet needs pyarrow: pip install 'protobench[parquet]'",
        ) from None
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid for a file that is not Parquet
        raise CoreError(ErrorCode.INVALID_INPUT, f"{path} is not a Parquet file: {exc}") from None


def _parquet_rows(path: Path, id_column: str | None) -> Iterator[Record]:
    """Read in record batches, so a large file never sits in memory whole."""
    parquet = _parquet_file(path)
    id_at = _id_position(path, list(parquet.schema_arrow.names), id_column)

    def rows() -> Iterator[list[Any]]:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            columns = [column.to_pylist() for column in batch.columns]
            yield from (list(row) for row in zip(*columns, strict=True))

    yield from _numbered(rows(), id_at)


def _records(path: Path, id_column: str | None) -> Iterator[Record]:
    """One record per data row; the id is ``id_column``'s cell or the row number."""
    return _parquet_rows(path, id_column) if _is_parquet(path) else _csv_rows(path, id_column)


def _matrix(cells: list[list[Any]], first_id: str) -> np.ndarray:
    try:
        return np.array(cells, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise CoreError(
            ErrorCode.INVALID_INPUT,
            f"the chunk starting at input {first_id} holds a cell that is not a number, or rows "
            f"of different lengths ({exc})",
        ) from None


def count_rows(path: Path) -> int:
    if _is_parquet(path):
        return int(_parquet_file(path).metadata.num_rows)
    with path.open(newline="") as handle:
        return max(sum(1 for line in handle if line.strip()) - 1, 0)


def run_job(
    service: InferenceService,
    store: PredictionStore,
    *,
    model: str,
    source: Path,
    job: str,
    chunk: int = 500,
    version: str | None = None,
    id_column: str | None = None,
    progress: Progress | None = None,
) -> JobResult:
    check_job(job)
    if not 1 <= chunk <= service.settings.max_batch:
        raise CoreError(
            ErrorCode.INVALID_INPUT, f"chunk must be 1-{service.settings.max_batch}, got {chunk}"
        )
    done = store.done_ids(job)
    records = _records(source, id_column)
    rows = written = skipped = 0
    while batch := list(islice(records, chunk)):
        rows += len(batch)
        todo = [record for record in batch if record.input_id not in done]
        skipped += len(batch) - len(todo)
        if todo:
            x = _matrix([record.cells for record in todo], todo[0].input_id)
            answer = service.predict(model, x, version)
            stored = [
                Row(record.input_id, p.label, p.probabilities, record.position)
                for record, p in zip(todo, answer.predictions, strict=True)
            ]
            written += store.write(job, answer.model, answer.version, stored)
            done.update(record.input_id for record in todo)
        if progress is not None:
            progress(len(batch))
    return JobResult(job=job, rows=rows, written=written, skipped=skipped)
