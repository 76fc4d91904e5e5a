"""The Redis prediction store against a real redis-server started here: the batch job writes
every row once and resumes, and a server reads the rows back through its protocol."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.prediction_store import open_store
from protobench.core.redis_store import RedisPredictionStore
from protobench.core.service import InferenceService
from tests.core.test_batch_job import _csv, _interrupted_then_resumed
from tests.support.servers import running_server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A throwaway redis-server (Debian's redis-server package) on a free loopback port, with
    no persistence, stopped by its own PID."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; run scripts/install-system-deps.sh")
    folder = Path(tempfile.mkdtemp(prefix="protobench-redis-"))
    port = _free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(folder)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start (exit {process.poll()})")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def test_open_store_picks_redis_by_the_url(redis_url: str) -> None:
    assert isinstance(open_store(redis_url), RedisPredictionStore)


def test_a_redis_job_stores_every_row_once_and_resumes(
    service: InferenceService, tmp_path: Path, redis_url: str
) -> None:
    source = _csv(tmp_path / "flowers.csv", 4)  # 600 rows
    store = open_store(redis_url)
    result = _interrupted_then_resumed(service, store, source, "redis-job", chunks=2)
    assert (result.rows, result.written, result.skipped) == (600, 400, 200)
    page = store.page("redis-job", 1000, 0)
    assert [p.input_id for p in page] == [f"row-{i}" for i in range(600)]  # input order
    assert [p.input_id for p in store.page("redis-job", 3, 598)] == ["row-598", "row-599"]
    row = store.get("redis-job/row-0")  # iris's first flower
    assert row.label == "setosa" and row.probabilities == page[0].probabilities
    with pytest.raises(CoreError) as exc:
        store.get("redis-job/no-such-row")
    assert exc.value.code == ErrorCode.NOT_FOUND


def test_an_unreachable_redis_is_not_ready(service: InferenceService) -> None:
    with pytest.raises(CoreError) as exc:
        open_store(f"redis://127.0.0.1:{_free_port()}/0").page("j", 10, 0)
    assert exc.value.code == ErrorCode.NOT_READY


@pytest.mark.rest
def test_a_server_reads_the_rows_a_batch_job_wrote_to_redis(
    models_dir: Path, tmp_path: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from protobench.cli import main

    source = tmp_path / "few.csv"
    source.write_text("id,sepal_length,sepal_width,petal_length,petal_width\n"
                      "a,5.1,3.5,1.4,0.2\nb,6.7,3.0,5.2,2.3\n")  # fmt: skip
    batch = ["batch", "--model", "iris", "--input", str(source), "--out", redis_url, "--quiet"]
    assert main([*batch, "--models-dir", str(models_dir), "--job", "cli-redis"]) == 0
    assert "2 written" in capsys.readouterr().out
    env = {"PROTOBENCH_PREDICTIONS_DB": redis_url}
    with running_server("rest", tmp_path, models_dir, env=env) as server:
        at = ["--protocol", "rest", "--target", server.target, "--json"]
        assert main(["predictions", *at, "--job", "cli-redis"]) == 0
        out = capsys.readouterr().out
        assert '"label": "setosa"' in out and '"label": "virginica"' in out
        assert main(["predictions", *at, "--id", "cli-redis/b"]) == 0
        assert '"virginica"' in capsys.readouterr().out
