"""The page in a real headless Chromium, offline: no console error, every chart drawn, the
chosen language, a screenshot. One test from the fixed fixture, one from a real short bench."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.report import write_report
from tests.report.browser import Rendering, render

BENCH_LOCK = Path("/tmp/protobench-bench.lock")  # one benchmark at a time on this machine
CHART_KEYS = ("lecture", "scaling", "replica_knee", "percentiles", "knee", "wire", "cpu",
              "breakdown", "breakdown_client", "spread",
              "corrected", "batch", "coldstart")  # fmt: skip
# drawn only from the capacity-limited model's runs, or from a --cold-starts run
LESSON_CHARTS = ("replica_knee", "coldstart")
# Words only one of the two pages may contain.
LANGUAGE_MARKERS = {
    "es": ("Notas para la clase", "Glosario", "Lectura:"),
    "en": ("Teaching notes", "Glossary", "Reading:"),
}


def _check(seen: Rendering, lang: str, drawn: tuple[str, ...]) -> None:
    assert seen.problems == [], "the page logged errors"
    assert seen.resources == [], "the page tried to load something"
    assert seen.lang == lang
    other = "en" if lang == "es" else "es"
    for marker in LANGUAGE_MARKERS[lang]:
        assert marker in seen.text
    for marker in LANGUAGE_MARKERS[other]:
        assert marker not in seen.text
    figures = {f["id"].removeprefix("fig-"): f for f in seen.figures}
    assert set(figures) == set(CHART_KEYS)
    for key in drawn:
        figure = figures[key]
        assert not figure["missing"], key
        assert figure["shapes"] > 0 and figure["width"] > 300 and figure["height"] > 80, key
    assert seen.screenshot is not None and seen.screenshot.stat().st_size > 10_000


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_fixture_page_renders_offline(results: Path, tmp_path: Path, lang: str) -> None:
    page = write_report(results, tmp_path / f"report.{lang}.html", lang)
    seen = render(page, tmp_path, tmp_path / f"report.{lang}.png")
    _check(seen, lang, tuple(k for k in CHART_KEYS if k not in LESSON_CHARTS))


@pytest.mark.bench
def test_a_real_short_bench_run_renders(tmp_path: Path) -> None:
    out = tmp_path / "results"
    options = ["--protocols", "rest,grpc", "--users", "4", "--duration", "2", "--warmup", "1"]
    command = [sys.executable, "-m", "protobench.cli", "bench", *options, "--out", str(out)]
    with BENCH_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        finished = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stderr[-3000:]
    page = write_report(out, tmp_path / "report.html", "es")
    seen = render(page, tmp_path, tmp_path / "report.png")
    _check(seen, "es", ("lecture", "percentiles", "wire", "cpu"))
