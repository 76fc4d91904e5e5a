"""Cold start: real servers started from nothing until their first answered predict, and the
report's chart and note built from those measurements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests.coldstart import CONDITIONS, measure
from loadtests.report import render
from tests.report.conftest import FIXTURE


@pytest.mark.timeout(900)  # several Python processes start; minutes on a busy 2-core machine
def test_cold_starts_are_timed_and_reported(tmp_path: Path, models_dir: Path) -> None:
    measured = measure(("jsonrpc",), 1, tmp_path / "cold", trained=models_dir)
    seconds = measured["seconds"]["jsonrpc"]
    assert set(seconds) == set(CONDITIONS)
    assert all(len(v) == 1 and v[0] > 0 for v in seconds.values())
    assert measured["median_s"]["jsonrpc"] == {c: v[0] for c, v in seconds.items()}

    document = json.loads(FIXTURE.read_text())
    document["cold_start"] = measured
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.json").write_text(json.dumps(document))
    disk = seconds["models_on_disk"][0]
    for lang, title, decimal in (("en", "Cold start", "."), ("es", "Arranque en frío", ",")):
        page = render(tmp_path / "run", lang=lang)
        assert title in page and "<svg" in page.split(title, 1)[1]
        assert f"{disk:.2f}".replace(".", decimal) in page  # the median, in the locale


def test_a_run_without_cold_starts_says_how_to_get_them() -> None:
    assert "protobench bench --cold-starts 5" in render(FIXTURE, lang="en")
