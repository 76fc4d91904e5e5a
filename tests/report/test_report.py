"""The report's content from the fixed results fixture: charts, readings, flags, Markdown, CLI."""

from __future__ import annotations

import argparse
import copy
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from loadtests.report import render, write_report
from loadtests.report.build import build
from loadtests.report.figures import FIGURES, figures
from loadtests.report.i18n import Locale
from protobench.commands import report as report_command

CHART_KEYS = ("scaling", "replica_knee", "percentiles", "knee", "wire", "cpu", "breakdown",
              "breakdown_client", "spread",
              "corrected", "batch")  # fmt: skip
LESSON_CHARTS = ("replica_knee",)  # drawn from the capacity-limited model's runs only
PAGE_CHARTS = 1  # beyond FIGURES: the lecture table's (loadtests/report/lecture_chart.py)


def _document(results: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(results.read_text())
    return document


def _write(document: dict[str, Any], folder: Path) -> Path:
    path = folder / "results.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_fixture_draws_every_chart_with_a_reading(results: Path, lang: str) -> None:
    drawn = figures(build([_document(results)]), Locale(lang))
    assert [f.key for f in drawn] == list(CHART_KEYS) == [f.__name__ for f in FIGURES]
    for figure in drawn:
        if figure.key in LESSON_CHARTS:
            assert figure.svg is None
            continue
        assert figure.svg is not None and figure.svg.startswith("<svg"), figure.key
        assert re.search(r"\d", figure.reading), f"{figure.key}: the reading quotes no number"


def test_a_chart_without_data_says_so_in_one_line(results: Path) -> None:
    document = _document(results)
    document["cells"] = [c for c in document["cells"] if c["load_model"] == "closed"][:1]
    loc = Locale("en")
    drawn = {f.key: f for f in figures(build([document]), loc)}
    for key in ("scaling", "knee", "spread", "corrected", "batch"):
        assert drawn[key].svg is None
        assert drawn[key].reading == loc.t(f"fig.{key}.absent")
    assert drawn["percentiles"].svg is not None


def test_the_breakdown_charts_draw_every_protocol_measured(results: Path) -> None:
    """A bar per protocol of the run's breakdown, on both sides, whether or not the load test's
    cells hold it (the fixture's cells are four protocols, its breakdown all nine)."""
    document = _document(results)
    measured = list(document["breakdown"]["protocols"])
    assert set(measured) > {c["protocol"] for c in document["cells"]}
    drawn = {f.key: f for f in figures(build([document]), Locale("en"))}
    for key in ("breakdown", "breakdown_client"):
        svg = drawn[key].svg
        assert svg is not None
        assert [p for p in measured if f">{p}<" in svg] == measured, key


def test_a_breakdown_bar_ends_on_the_measured_total(results: Path) -> None:
    """Parts timed apart can add up to more than the call measured whole (the fixture's Thrift
    client: 127 µs of parts, 99 measured): the bar's end and the reading say the measured total."""
    document = _document(results)
    thrift = document["breakdown"]["protocols"]["thrift"]["client"]
    parts = sum(thrift[stage] for stage in ("floor", "encode", "decode", "other"))
    assert parts > thrift["total"] * 1.1
    loc = Locale("en")
    drawn = {f.key: f for f in figures(build([document]), loc)}["breakdown_client"]
    assert drawn.svg is not None
    ends = [float(v.replace(",", "")) for v in re.findall(r'"start"[^>]*>([\d,.]+)<', drawn.svg)]
    assert any(abs(end - thrift["total"]) < 1 for end in ends), ends
    assert not any(abs(end - parts) < 1 for end in ends), ends
    assert f"thrift {loc.num(thrift['total'])} µs" in drawn.reading


def test_readings_follow_the_numbers(results: Path) -> None:
    """Halve one protocol's multi-replica throughput: the scaling reading must change with it."""
    document = _document(results)
    changed = copy.deepcopy(document)
    for cell in changed["cells"]:
        if cell["protocol"] == "rest" and cell["replicas"] > 1:
            cell["requests_per_s"] /= 2
    loc = Locale("en")

    def scaling_reading(doc: dict[str, Any]) -> str:
        return next(f.reading for f in figures(build([doc]), loc) if f.key == "scaling")

    assert scaling_reading(document) != scaling_reading(changed)


def test_flags_stand_next_to_the_numbers_they_qualify(results: Path, tmp_path: Path) -> None:
    document = _document(results)
    cell = next(c for c in document["cells"] if c["protocol"] == "grpc")
    cell["flags"] = ["generator-bound", "errors"]
    cell["errors"] = {"DEADLINE_EXCEEDED": 3}
    html = render(_write(document, tmp_path), "en")
    assert re.search(r'<td class="num">[\d,]+<span class="flag generator-bound"', html)
    assert re.search(
        r'<td class="num" title="DEADLINE_EXCEEDED: \d+">\d+<span class="flag errors"', html
    )
    assert "configurations the load generator itself was the bottleneck" in html


@pytest.mark.parametrize(
    ("lang", "heading", "decimal"), [("es", "Resultados", ","), ("en", "Results", ".")]
)
def test_markdown_summary(
    results: Path, tmp_path: Path, lang: str, heading: str, decimal: str
) -> None:
    out = write_report(results, tmp_path / f"report.{lang}.md", lang, "md")
    text = out.read_text()
    groups = build([_document(results)]).groups
    assert f"## {heading}" in text
    results_part = text.split(f"## {heading}")[1].split("\n## ")[0]  # the lecture's table first
    table = [line for line in results_part.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(groups)  # header + one row per configuration
    p50 = Locale(lang).auto(groups[0].latency("p50"))
    assert decimal in p50 and f"| {p50} |" in table[1]
    assert text.count("### ") >= len(CHART_KEYS)


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="protobench")
    report_command.register(parser.add_subparsers())
    args = parser.parse_args(["report", *argv])
    code: int = args.run(args)
    return code


def test_the_command_writes_the_page(
    results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert _cli(str(results), "--out", str(out), "--lang", "en") == 0
    assert f"report: {out.resolve()}" in capsys.readouterr().out
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert page.count("<svg") == len(CHART_KEYS) - len(LESSON_CHARTS) + PAGE_CHARTS


def test_the_command_explains_a_missing_results_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(str(tmp_path / "nowhere")) == 2
    assert "does not exist" in capsys.readouterr().err
    assert _cli(str(tmp_path)) == 2
    assert "run `protobench bench` first" in capsys.readouterr().err


def test_a_cell_without_successful_requests_still_reports(results: Path, tmp_path: Path) -> None:
    """What the runner writes when nothing succeeded in the window: NaN latencies, no curve."""
    document = _document(results)
    cell = next(c for c in document["cells"] if c["protocol"] == "jsonrpc")
    nan = {k: math.nan for k in ("p50", "p90", "p99", "p999", "max", "mean")}
    cell.update(
        requests_per_s=0.0,
        latency_ms=nan,
        latency_corrected_ms=dict(nan),
        percentile_curve=[],
        percentile_curve_corrected=[],
        little_concurrency=math.nan,
        flags=["no-successful-requests"],
    )
    html = render(_write(document, tmp_path), "es")
    assert re.search(r'<td class="num">–<span class="flag no-successful-requests"', html)
    assert html.count("<svg") == len(CHART_KEYS) - len(LESSON_CHARTS) + PAGE_CHARTS
