"""`protobench batch` as a user runs it: a refused header, and Ctrl-C in the middle of a job."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from protobench.cli import main


def test_a_refused_header_prints_one_line_and_no_progress_bar(
    models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "flowers.csv"
    source.write_text("id,colour,sepal_length,sepal_width,petal_length,petal_width\nr,1,2,3,4,5\n")
    argv = ["batch", "--model", "iris", "--input", str(source), "--models-dir", str(models_dir)]
    assert main([*argv, "--out", f"sqlite:///{tmp_path / 'p.db'}"]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # no empty bar, no blank line
    assert err.count("\n") == 1 and "'colour'" in err and "--features-columns" in err


def _sigint_as_in_a_terminal() -> None:
    """A process started in the background (`cmd &` in a script, as CI may start the suite)
    ignores SIGINT and its children inherit that, so Python installs no KeyboardInterrupt
    handler: the job must meet Ctrl-C as it does when started from a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_says_a_rerun_resumes(models_dir: Path, tmp_path: Path) -> None:
    rows = np.tile(load_iris().data, (400, 1))  # 60 000 rows
    lines = ["sepal_length,sepal_width,petal_length,petal_width"]
    lines += [",".join(map(str, row)) for row in rows]
    source = tmp_path / "many.csv"
    source.write_text("\n".join(lines) + "\n")
    db = tmp_path / "p.db"
    command = [
        *(sys.executable, "-m", "protobench.cli", "batch", "--model", "iris", "--chunk", "100"),
        *("--input", str(source), "--out", f"sqlite:///{db}", "--models-dir", str(models_dir)),
    ]
    process = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        preexec_fn=_sigint_as_in_a_terminal,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with sqlite3.connect(db) as connection:
                if connection.execute("select count(*) from predictions").fetchone()[0] >= 500:
                    break
        except sqlite3.OperationalError:  # no file or no table yet
            pass
        time.sleep(0.05)
    if process.poll() is not None:
        pytest.fail(f"the job ended before Ctrl-C: {process.stderr.read()!r}")  # type: ignore[union-attr]
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=30)
    finally:  # never leave a job running on into the tests that follow
        process.kill()
        process.wait()
    assert process.returncode == 130, err
    assert "interrupted" in err and "again" in err and "resume" in err
    assert "Traceback" not in err, err
