"""Batch jobs: every row stored once, resumed after an interruption or a kill, on SQLite and
on a real PostgreSQL server when one can be started here."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from protobench.core.batch_job import JobInterrupted, JobResult, run_job
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.core.sql_store import PredictionStore

IRIS = load_iris().data


def _csv(path: Path, copies: int) -> Path:
    rows = np.tile(IRIS, (copies, 1))
    lines = ["id,sepal_length,sepal_width,petal_length,petal_width"]
    lines += [f"row-{i}," + ",".join(map(str, r)) for i, r in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _stored(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as connection:
        count, distinct = connection.execute(
            "select count(*), count(distinct input_id) from predictions"
        ).fetchone()
    return count, distinct


class Interrupted(Exception):
    pass


def _interrupted_then_resumed(
    service: InferenceService, store: PredictionStore, source: Path, job: str, chunks: int
) -> JobResult:
    """Run the job until ``chunks`` chunks of 100 are handled, interrupt it, run it again."""
    handled: list[int] = []

    def interrupt(n: int) -> None:
        handled.append(n)
        if len(handled) == chunks:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_job(
            service,
            store,
            model="iris",
            source=source,
            job=job,
            chunk=100,
            id_column="id",
            progress=interrupt,
        )
    assert len(store.done_ids(job)) == 100 * chunks  # every finished chunk, nothing more
    return run_job(service, store, model="iris", source=source, job=job, id_column="id")


def test_a_job_stores_every_row_once_and_resumes(service: InferenceService, tmp_path: Path) -> None:
    source = _csv(tmp_path / "flowers.csv", 10)  # 1500 rows
    db = tmp_path / "p.db"
    store = PredictionStore(f"sqlite:///{db}")
    result = _interrupted_then_resumed(service, store, source, "j", chunks=3)
    assert (result.rows, result.written, result.skipped) == (1500, 1200, 300)
    assert _stored(db) == (1500, 1500)
    row = store.get("j/row-0")
    expected = service.predict("iris", [IRIS[0].tolist()])
    assert row.label == expected.predictions[0].label and row.version == expected.version
    # a matrix product over 100 rows may differ from one row's in the last bit
    assert row.probabilities == pytest.approx(expected.predictions[0].probabilities, rel=1e-12)


def test_a_stop_request_ends_the_job_after_the_chunk_in_hand(
    service: InferenceService, tmp_path: Path
) -> None:
    source = _csv(tmp_path / "flowers.csv", 2)  # 300 rows
    db = tmp_path / "p.db"
    store = PredictionStore(f"sqlite:///{db}")
    asked: list[int] = []

    def stop_requested() -> bool:
        asked.append(1)
        return len(asked) == 2

    with pytest.raises(JobInterrupted) as stopped:
        run_job(
            service,
            store,
            model="iris",
            source=source,
            job="j",
            chunk=100,
            stop_requested=stop_requested,
        )
    assert (stopped.value.rows, stopped.value.written) == (200, 200)
    assert _stored(db) == (200, 200)  # two whole chunks, the third never started


def test_bad_input_is_refused_clearly(service: InferenceService, tmp_path: Path) -> None:
    store = PredictionStore(f"sqlite:///{tmp_path / 'p.db'}")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c,d\n1,2,3,x\n")
    for kwargs, message in [
        ({"source": bad}, "not a number"),
        ({"source": bad, "id_column": "nope"}, "--id-column 'nope' is not a column"),
        ({"source": bad, "chunk": 0}, "chunk"),
        ({"source": bad, "job": "a/b"}, "job names"),
    ]:
        with pytest.raises(CoreError) as exc:
            run_job(service, store, **{"model": "iris", "job": "j", **kwargs})  # type: ignore[arg-type]
        assert exc.value.code == ErrorCode.INVALID_INPUT and message in exc.value.message


def _shuffled_csv(path: Path, header: str, rows: int) -> tuple[Path, np.ndarray]:
    """The issue's file: an id, then iris's features out of the model's order."""
    x = np.random.default_rng(7).uniform([4, 2, 1, 0.1], [8, 4.5, 7, 2.5], size=(rows, 4))
    order = [2, 3, 0, 1]  # petal_length, petal_width, sepal_length, sepal_width
    lines = [header] + [f"f{i:04d}," + ",".join(map(str, r[order])) for i, r in enumerate(x)]
    path.write_text("\n".join(lines) + "\n")
    return path, x


@pytest.mark.parametrize(
    ("header", "id_column"),
    [
        ("id,petal_length,petal_width,sepal_length,sepal_width", "id"),
        ("id,petal_length,petal_width,sepal_length,sepal_width", None),
        ("ID,Petal Length (cm),PETAL_WIDTH,sepal length (cm),Sepal_Width", None),
        ("key,petal_length,petal_width,sepal_length,sepal_width", "key"),
    ],
)
def test_features_are_read_by_the_header_names(
    service: InferenceService, tmp_path: Path, header: str, id_column: str | None
) -> None:
    source, x = _shuffled_csv(tmp_path / "shuffled.csv", header, 1000)
    store = PredictionStore(f"sqlite:///{tmp_path / 'p.db'}")
    run_job(service, store, model="iris", source=source, job="s", id_column=id_column)
    expected = [p.label for p in service.predict("iris", x).predictions]
    stored = {row.input_id: row.label for row in store.page("s", 1000, 0)}
    assert [stored[f"f{i:04d}"] for i in range(1000)] == expected
    assert len(set(expected)) == 3  # the rows span every class, so a wrong order would show


@pytest.mark.parametrize(
    ("header", "options", "named"),
    [
        # a column beside the features: named, with both flags that fix it
        ("id,extra,petal_length,petal_width,sepal_length,sepal_width", {}, ["'extra'"]),
        # a feature missing
        ("id,petal_length,petal_width,sepal_length", {}, ["'sepal_width'"]),
        # an id under another name and anonymous features: the count does not fit
        ("key,a,b,c,d", {}, ["'key'", "5 columns"]),
        ("id,a,b,c,d", {"feature_columns": ["a", "b"]}, ["names 2 columns"]),
        ("id,a,b,c,d", {"feature_columns": ["a", "b", "c", "z"]}, ["'z' is not a column"]),
    ],
)
def test_columns_left_over_or_missing_are_refused_by_name(
    service: InferenceService, tmp_path: Path, header: str, options: dict[str, object],
    named: list[str],
) -> None:  # fmt: skip
    source = tmp_path / "cols.csv"
    width = header.count(",") + 1
    source.write_text(header + "\n" + ",".join(["1"] * width) + "\n")
    with pytest.raises(CoreError) as exc:
        run_job(service, PredictionStore(f"sqlite:///{tmp_path / 'p.db'}"), model="iris",
                source=source, job="c", **options)  # type: ignore[arg-type]  # fmt: skip
    message = exc.value.message
    assert exc.value.code == ErrorCode.INVALID_INPUT
    assert "--features-columns" in message
    assert "--id-column" in message or options
    for text in named:
        assert text in message


def test_features_columns_choose_and_order_the_features(
    service: InferenceService, tmp_path: Path
) -> None:
    source, x = _shuffled_csv(tmp_path / "anon.csv", "name,p,q,r,s", 50)
    store = PredictionStore(f"sqlite:///{tmp_path / 'p.db'}")
    run_job(service, store, model="iris", source=source, job="a", id_column="name",
            feature_columns=["r", "s", "p", "q"])  # fmt: skip
    expected = [p.label for p in service.predict("iris", x).predictions]
    assert [row.label for row in store.page("a", 100, 0)] == expected


@pytest.mark.parametrize(
    ("cell", "why"), [("nan", "holds NaN or infinity"), ("1e308", "is too large for the model")]
)
def test_a_row_the_model_refuses_is_named_by_its_place_in_the_file(
    service: InferenceService, tmp_path: Path, cell: str, why: str
) -> None:
    """The core names the row by its index in the chunk (0 here); the job by the file's."""
    source = tmp_path / "bad.csv"
    rows = [f"r{i},5.1,3.5,1.4,0.2" for i in range(1, 6)] + [f"r6,{cell},{cell},{cell},{cell}"]
    source.write_text("id,sepal_length,sepal_width,petal_length,petal_width\n" + "\n".join(rows))
    with pytest.warns() if cell == "1e308" else nullcontext(), pytest.raises(CoreError) as exc:
        run_job(service, PredictionStore(f"sqlite:///{tmp_path / 'p.db'}"), model="iris",
                source=source, job="n", chunk=5)  # fmt: skip
    assert exc.value.message.startswith(f"input r6 (data row 6) {why}")
    assert exc.value.details["input_id"] == "r6"


def test_a_cell_that_is_not_a_number_is_named(service: InferenceService, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        "id,sepal_length,sepal_width,petal_length,petal_width\nr1,1,2,3,4\nr2,1,x,3,4\n"
    )
    with pytest.raises(CoreError) as exc:
        run_job(service, PredictionStore(f"sqlite:///{tmp_path / 'p.db'}"), model="iris",
                source=source, job="n")  # fmt: skip
    assert "input r2 (data row 2): feature sepal_width is 'x', not a number" in exc.value.message


def test_killed_mid_run_the_job_resumes_without_duplicates(
    models_dir: Path, tmp_path: Path
) -> None:
    source = _csv(tmp_path / "many.csv", 400)  # 60 000 rows
    db = tmp_path / "p.db"
    command = [
        *(sys.executable, "-m", "protobench.cli", "batch", "--model", "iris"),
        *("--input", str(source), "--out", f"sqlite:///{db}", "--chunk", "100"),
        *("--id-column", "id", "--models-dir", str(models_dir), "--quiet"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        if db.exists():
            try:
                stored = _stored(db)[0]
            except sqlite3.OperationalError:  # the table is not created yet
                stored = 0
            if stored >= 1000:
                break
        time.sleep(0.05)
    if process.poll() is not None:
        pytest.fail(f"the job ended before it could be killed: {process.stdout.read()!r}")  # type: ignore[union-attr]
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    partial = _stored(db)
    assert partial[0] == partial[1] and 0 < partial[0] < 60_000
    finished = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert f"{partial[0]} already stored" in finished.stdout
    assert _stored(db) == (60_000, 60_000)


# -- PostgreSQL ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster in a temp dir (Debian's postgresql package), as the
    'postgres' user when the tests run as root (initdb refuses root)."""
    pytest.importorskip("psycopg", reason="psycopg (the test extra) is not installed")
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        pytest.skip("no PostgreSQL server here (Debian package postgresql not installed)")
    bin_dir = Path(binaries[-1]).parent
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        prefix = ["runuser", "-u", "postgres", "--"]
    # not under pytest's temp root: that is private to the user running the tests
    data = Path(tempfile.mkdtemp(prefix="protobench-pg-"))
    if prefix:
        shutil.chown(data, "postgres")
    port = _free_port()
    user = "postgres" if prefix else os.environ.get("USER", "postgres")
    initdb = [str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", user, "--auth=trust"]
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-w"]
    options = f"-h 127.0.0.1 -p {port} -k {data}"
    try:
        subprocess.run([*prefix, *initdb], check=True, capture_output=True, timeout=120)
        subprocess.run(
            [*prefix, *ctl, "-o", options, "-l", str(data / "log"), "start"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(data, ignore_errors=True)
        output = getattr(exc, "stderr", b"") or b""
        pytest.skip(f"cannot start a throwaway PostgreSQL server: {exc} {output[-300:]!r}")
    try:
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, *ctl, "-m", "fast", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def test_postgresql_store_resumes_too(
    service: InferenceService, tmp_path: Path, postgres_url: str
) -> None:
    source = _csv(tmp_path / "flowers.csv", 4)  # 600 rows
    result = _interrupted_then_resumed(service, PredictionStore(postgres_url), source, "pg", 2)
    assert (result.written, result.skipped) == (400, 200)
    store = PredictionStore(postgres_url)
    page = store.page("pg", 1000, 0)
    assert len(page) == 600 and len({p.input_id for p in page}) == 600
    assert store.get("pg/row-1").label == "setosa"


def _parquet(path: Path, copies: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = np.tile(IRIS, (copies, 1))
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    columns = {"id": [f"row-{i}" for i in range(len(rows))]}
    columns.update({name: rows[:, j].tolist() for j, name in enumerate(names)})
    pq.write_table(pa.table(columns), path, row_group_size=500)
    return path


def test_a_parquet_job_matches_the_csv_job_and_resumes(
    service: InferenceService, tmp_path: Path
) -> None:
    from protobench.core.batch_job import count_rows

    source = _parquet(tmp_path / "flowers.parquet", 10)  # 1500 rows in 3 row groups
    assert count_rows(source) == 1500
    db = tmp_path / "p.db"
    store = PredictionStore(f"sqlite:///{db}")
    result = _interrupted_then_resumed(service, store, source, "pq", chunks=4)
    assert (result.rows, result.written, result.skipped) == (1500, 1100, 400)
    assert _stored(db) == (1500, 1500)
    csv_store = PredictionStore(f"sqlite:///{tmp_path / 'c.db'}")
    run_job(service, csv_store, model="iris", source=_csv(tmp_path / "flowers.csv", 10),
            job="csv", id_column="id")  # fmt: skip
    for input_id in ("row-0", "row-777", "row-1499"):
        assert store.get(f"pq/{input_id}").label == csv_store.get(f"csv/{input_id}").label


def test_a_file_that_is_not_parquet_is_refused(service: InferenceService, tmp_path: Path) -> None:
    source = tmp_path / "fake.parquet"
    source.write_text("id,a\n1,2\n")
    with pytest.raises(CoreError) as exc:
        run_job(service, PredictionStore(f"sqlite:///{tmp_path / 'p.db'}"), model="iris",
                source=source, job="bad")  # fmt: skip
    assert exc.value.code == ErrorCode.INVALID_INPUT and "Parquet" in exc.value.message


def test_a_second_run_writing_the_same_job_is_named(
    service: InferenceService, tmp_path: Path
) -> None:
    """issue 21.6: a second run on a job another process is writing dumped a raw SQL error."""
    source = _csv(tmp_path / "flowers.csv", 2)  # 300 rows
    db = f"sqlite:///{tmp_path / 'p.db'}"
    other = PredictionStore(db)  # the other process's connection to the same database

    def the_other_run_writes_ahead(n: int) -> None:  # after our first chunk: rows 100-199
        run_job(service, other, model="iris", source=source, job="j", chunk=100,
                id_column="id", progress=lambda _: None)  # fmt: skip

    with pytest.raises(CoreError) as refused:
        run_job(service, PredictionStore(db), model="iris", source=source, job="j", chunk=100,
                id_column="id", progress=the_other_run_writes_ahead)  # fmt: skip
    assert refused.value.code is ErrorCode.FAILED_PRECONDITION
    assert "job 'j' is being written by another process" in refused.value.message
    assert _stored(tmp_path / "p.db") == (300, 300)  # the other run's rows, each once


def test_an_id_repeated_within_a_chunk_is_stored_once(
    service: InferenceService, tmp_path: Path
) -> None:
    source = tmp_path / "twice.csv"
    source.write_text("id,sepal_length,sepal_width,petal_length,petal_width\n"
                      "a,5.1,3.5,1.4,0.2\na,6.2,2.9,4.3,1.3\nb,5.9,3.0,5.1,1.8\n")  # fmt: skip
    db = tmp_path / "p.db"
    result = run_job(service, PredictionStore(f"sqlite:///{db}"), model="iris", source=source,
                     job="t", id_column="id")  # fmt: skip
    assert (result.written, result.skipped) == (2, 1)
    assert _stored(db) == (2, 2)
