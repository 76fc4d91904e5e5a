"""``protobench batch``: score a CSV file offline and store the predictions in a SQL table."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

DEFAULT_OUT = "sqlite:///predictions.db"


def register(commands: Any) -> None:
    batch = commands.add_parser(
        "batch",
        help="score a CSV or Parquet file in chunks and store the predictions in SQL or Redis",
        description="Score every row of a CSV file (a header row, then one row per instance) "
        "or a Parquet file (.parquet, one numeric column per feature) with the "
        "in-process fast path, in chunks. Features are read by the header's names (case, "
        "spaces, underscores and a unit in parentheses do not matter), so columns may come in "
        "any order; columns left over or missing are refused. Writes one row per input "
        "to the 'predictions' table of --out: (job, input id, model, version, label, "
        "probabilities as JSON, UTC timestamp). Running the same --job again resumes: ids "
        "already stored are skipped, so an interrupted job finishes without duplicates. "
        "A server started with PROTOBENCH_PREDICTIONS_DB=<the same URL> serves the rows "
        "through get_prediction and list_predictions.",
    )
    batch.add_argument("--model", required=True, help="model name: iris or digits")
    batch.add_argument(
        "--input", required=True, type=Path, help="CSV file with a header row, or a .parquet file"
    )
    batch.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help=f"where to store the predictions: a SQLAlchemy URL ({DEFAULT_OUT}; e.g. "
        "postgresql+psycopg://user@host/db) or a Redis URL (redis://127.0.0.1:6379/0)",
    )
    batch.add_argument("--chunk", type=int, default=500, help="rows per call and transaction")
    batch.add_argument("--job", help="job name (default: the input file's name, sanitised)")
    batch.add_argument("--version", help="model version (default: the model's default)")
    batch.add_argument(
        "--id-column",
        help="column holding each row's id (default: a column named 'id' if there is one, "
        "else the row number, from 1)",
    )
    batch.add_argument(
        "--features-columns",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        metavar="A,B,...",
        help="the columns holding the features, comma-separated in the model's order (default: "
        "the columns named like the model's features, e.g. sepal_length or 'Sepal Length (cm)'; "
        "a header that names none of them is read by position)",
    )
    batch.add_argument(
        "--models-dir", type=Path, help="artifact folder (env PROTOBENCH_MODELS_DIR)"
    )
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.set_defaults(run=run)


def _fail(message: str) -> int:
    print(f"protobench batch: {message}", file=sys.stderr)
    return 1


@contextmanager
def _ctrl_c_between_chunks() -> Iterator[Callable[[], bool]]:
    """The first Ctrl-C asks the job to stop after the chunk in hand (the job polls the flag it
    yields); a second one interrupts at once. Raising KeyboardInterrupt wherever the signal lands
    could cut a database commit part-way, which SQLAlchemy then reports as an AssertionError."""
    pressed: list[bool] = []

    def on_sigint(_signum: int, _frame: FrameType | None) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


def default_job(source: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", source.stem)[:64] or "job"


def run(args: argparse.Namespace) -> int:
    from redis import RedisError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    from sqlalchemy.exc import SQLAlchemyError

    from protobench.core.batch_job import JobInterrupted, count_rows, run_job
    from protobench.core.errors import CoreError
    from protobench.core.prediction_store import open_store
    from protobench.core.service import InferenceService
    from protobench.core.settings import Settings

    if not args.input.is_file():
        print(f"protobench batch: no such file: {args.input}", file=sys.stderr)
        return 2
    settings = Settings(**({"models_dir": args.models_dir} if args.models_dir else {}))
    service = InferenceService(settings)
    service.load()
    job = args.job or default_job(args.input)
    started = time.perf_counter()
    # Started at the first chunk, so an input refused at its header shows no empty bar.
    bar = Progress(BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), disable=args.quiet)
    task = bar.add_task(job, total=None)

    def advance(rows: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.advance(task, rows)

    def stop() -> None:
        if bar.live.is_started:  # stop() prints a newline even when the bar never showed
            bar.stop()

    with _ctrl_c_between_chunks() as stop_requested:
        try:
            bar.update(task, total=count_rows(args.input))
            result = run_job(
                service,
                open_store(args.out),
                model=args.model,
                source=args.input,
                job=job,
                chunk=args.chunk,
                version=args.version,
                id_column=args.id_column,
                feature_columns=args.features_columns,
                progress=advance,
                stop_requested=stop_requested,
            )
        except CoreError as exc:
            return _fail(f"{exc.code.value}: {exc.message}")
        except (SQLAlchemyError, RedisError, ModuleNotFoundError) as exc:
            return _fail(f"cannot write to {args.out}: {exc}")
        except (JobInterrupted, KeyboardInterrupt):
            stop()
            print(
                f"protobench batch: interrupted; the chunks already written are kept. Run the same "
                f"command again (job {job}) to resume: stored rows are skipped.",
                file=sys.stderr,
            )
            return 130
        finally:
            stop()
    elapsed = time.perf_counter() - started
    rate = result.written / elapsed if elapsed else 0.0
    print(
        f"job {result.job}: {result.rows} rows, {result.written} written, "
        f"{result.skipped} already stored; {elapsed:.2f} s ({rate:,.0f} rows/s written) "
        f"-> {args.out}"
    )
    return 0
