"""A batch prediction job: a CSV or Parquet file scored in chunks with the fast path, rows
stored in SQL.

Each chunk is written in one transaction, keyed by (job, input id): a job that is interrupted
(Ctrl-C, a kill, a crash) and run again skips the ids already stored and writes the rest, so
the table ends with every row exactly once.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from protobench.core.batch_columns import Layout, resolve
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.prediction_store import Row, Store, check_job
from protobench.core.service import InferenceService

Progress = Callable[[int], None]  # called with the rows handled by each chunk (stored or skipped)
StopRequested = Callable[[], bool]  # asked after each chunk: True ends the job there
Columns = Callable[[list[str]], Layout]  # the header's layout, decided once the header is read


@dataclass(frozen=True)
class JobResult:
    job: str
    rows: int  # rows in the input
    written: int  # rows scored and stored by this run
    skipped: int  # rows already stored by an earlier run


class JobInterrupted(Exception):
    """The job stopped between two chunks when asked to (Ctrl-C): every chunk written is whole."""

    def __init__(self, rows: int, written: int) -> None:
        super().__init__(f"stopped after {rows} rows ({written} written)")
        self.rows = rows
        self.written = written


class Record(NamedTuple):
    input_id: str
    position: int  # the data row's number, from 1
    cells: list[Any]  # strings from CSV, numbers from Parquet


PARQUET_SUFFIXES = (".parquet", ".pq")
PARQUET_BATCH_ROWS = 4096


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def _numbered(rows: Iterator[list[Any]], layout: Layout) -> Iterator[Record]:
    for number, cells in enumerate(rows, start=1):
        if not cells:
            continue
        if len(cells) != layout.width:
            raise CoreError(
                ErrorCode.INVALID_INPUT,
                f"data row {number} has {len(cells)} cells; the header has {layout.width} columns",
            )
        input_id = str(number) if layout.id_at is None else str(cells[layout.id_at])
        yield Record(input_id, number, layout.features(cells))


def _csv_rows(path: Path, columns: Columns) -> Iterator[Record]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise CoreError(ErrorCode.INVALID_INPUT, f"{path} is empty; it needs a header row")
        yield from _numbered(reader, columns(header))


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


def _parquet_rows(path: Path, columns: Columns) -> Iterator[Record]:
    """Read in record batches, so a large file never sits in memory whole."""
    parquet = _parquet_file(path)
    layout = columns(list(parquet.schema_arrow.names))

    def rows() -> Iterator[list[Any]]:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            values = [column.to_pylist() for column in batch.columns]
            yield from (list(row) for row in zip(*values, strict=True))

    yield from _numbered(rows(), layout)


def _records(path: Path, columns: Columns) -> Iterator[Record]:
    """One record per data row; the id is the id column's cell or the row number."""
    return _parquet_rows(path, columns) if _is_parquet(path) else _csv_rows(path, columns)


def _matrix(records: list[Record], features: Sequence[str]) -> np.ndarray:
    try:
        return np.array([record.cells for record in records], dtype=np.float64)
    except (ValueError, TypeError):
        for record in records:
            for name, cell in zip(features, record.cells, strict=True):
                if not _is_number(cell):
                    raise CoreError(
                        ErrorCode.INVALID_INPUT,
                        f"input {record.input_id} (data row {record.position}): feature "
                        f"{name} is {cell!r}, not a number",
                        {"input_id": record.input_id, "feature": name},
                    ) from None
        raise


def _located(error: CoreError, records: list[Record]) -> CoreError:
    """The core names a bad row by its index in the chunk; a job's reader needs the file's."""
    index = error.details.get("instance")
    if not isinstance(index, int) or not 0 <= index < len(records):
        return error
    record = records[index]
    return CoreError(
        error.code,
        f"input {record.input_id} (data row {record.position}) "
        + error.message.removeprefix(f"instance {index} "),
        {**error.details, "input_id": record.input_id},
    )


def _is_number(cell: Any) -> bool:
    try:
        float(cell)
    except (ValueError, TypeError):
        return False
    return True


def _unseen(records: list[Record], done: set[str]) -> list[Record]:
    """The records whose id is not stored yet, each id once: a repeated id is skipped within a
    chunk as it is across chunks, so the store only ever sees new ids from this run."""
    seen = set(done)
    todo = []
    for record in records:
        if record.input_id not in seen:
            seen.add(record.input_id)
            todo.append(record)
    return todo


def count_rows(path: Path) -> int:
    if _is_parquet(path):
        return int(_parquet_file(path).metadata.num_rows)
    with path.open(newline="") as handle:
        return max(sum(1 for line in handle if line.strip()) - 1, 0)


def run_job(
    service: InferenceService,
    store: Store,
    *,
    model: str,
    source: Path,
    job: str,
    chunk: int = 500,
    version: str | None = None,
    id_column: str | None = None,
    feature_columns: Sequence[str] | None = None,
    progress: Progress | None = None,
    stop_requested: StopRequested | None = None,
) -> JobResult:
    """Score ``source`` into ``store``; the header decides the columns (see batch_columns).
    ``stop_requested`` is asked between chunks, never during a write: a transaction cut by an
    exception part-way (as a KeyboardInterrupt inside SQLAlchemy's commit) is not left behind."""
    check_job(job)
    if not 1 <= chunk <= service.settings.max_batch:
        raise CoreError(
            ErrorCode.INVALID_INPUT, f"chunk must be 1-{service.settings.max_batch}, got {chunk}"
        )
    features = service.registry.feature_names(model)

    def columns(header: list[str]) -> Layout:
        return resolve(
            header,
            features,
            source=source.name,
            id_column=id_column,
            feature_columns=feature_columns,
        )

    records = _records(source, columns)
    first = next(records, None)  # reads the header: a bad layout is refused before any work
    done = store.done_ids(job)
    records = chain([first] if first else [], records)
    rows = written = skipped = 0
    while batch := list(islice(records, chunk)):
        rows += len(batch)
        todo = _unseen(batch, done)
        skipped += len(batch) - len(todo)
        if todo:
            x = _matrix(todo, features)
            try:
                answer = service.predict(model, x, version)
            except CoreError as exc:
                raise _located(exc, todo) from None
            stored = [
                Row(record.input_id, p.label, p.probabilities, record.position)
                for record, p in zip(todo, answer.predictions, strict=True)
            ]
            written += store.write(job, answer.model, answer.version, stored)
            done.update(record.input_id for record in todo)
        if progress is not None:
            progress(len(batch))
        if stop_requested is not None and stop_requested():
            raise JobInterrupted(rows, written)
    return JobResult(job=job, rows=rows, written=written, skipped=skipped)
