"""--slo: the objectives parsed, each cell judged, the verdict in results.json, the report and
the exit code of a real bench run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadtests.report import write_report
from loadtests.slo import judge_cell, judge_run, parse


def _cell(**fields: Any) -> dict[str, Any]:
    latency = {"p50": 2.0, "p90": 8.0, "p99": 40.0, "p999": 90.0, "max": 120.0, "mean": 4.0}
    cell = {
        "cell_id": "rest-x1",
        "load_model": "closed",
        "latency_ms": latency,
        "latency_corrected_ms": {k: v * 10 for k, v in latency.items()},
        "requests": 10_000,
        "errors": {"INTERNAL": 5},
        "requests_per_s": 1500.0,
        "predictions_per_s": 1500.0,
        "flags": [],
    }
    return cell | fields


def test_the_issue_spec_parses_into_units_of_its_own() -> None:
    p99, errors, rps = parse("p99<50ms, errors<0.1%, rps>1000")
    assert (p99.metric, p99.op, p99.threshold) == ("p99", "<", 50.0)
    assert (errors.metric, errors.threshold) == ("errors", 0.001)
    assert (rps.metric, rps.op, rps.threshold) == ("rps", ">", 1000.0)
    assert parse("p99.9<=0.2s")[0].threshold == 200.0
    assert parse("mean<500us")[0].threshold == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("p99<50", None),  # a bare number is milliseconds: fine
        ("p98<50ms", "unknown metric 'p98'"),
        ("p99=50ms", "is not METRIC<VALUE"),
        ("errors<5ms", "percentage or a fraction"),
        ("rps>10%", "plain number"),
        (" , ", "empty"),
    ],
)
def test_a_wrong_spec_says_which_term(spec: str, says: str | None) -> None:
    if says is None:
        parse(spec)
        return
    with pytest.raises(ValueError, match=says):
        parse(spec)


def test_each_objective_is_judged_on_the_right_number() -> None:
    objectives = parse("p99<50ms,errors<0.1%,rps>1000")
    verdict = judge_cell(_cell(), objectives)  # p99 40, errors 0.05 %, 1500/s
    assert verdict["passed"]
    assert [c["measured"] for c in verdict["checks"]] == [40.0, 0.0005, 1500.0]
    # an open-model cell is judged on the latency from the intended send time (400 ms here)
    assert not judge_cell(_cell(load_model="open"), objectives)["passed"]
    assert not judge_cell(_cell(errors={"INTERNAL": 11}), objectives)["passed"]
    nothing = _cell(requests=0, errors={}, requests_per_s=0.0)
    nothing["latency_ms"] = dict.fromkeys(nothing["latency_ms"], math.nan)
    checks = judge_cell(nothing, objectives)["checks"]
    assert [c["passed"] for c in checks] == [False, False, False]  # nothing measured fails


def test_a_run_records_verdicts_and_flags() -> None:
    document = {"cells": [_cell(), _cell(cell_id="grpc-x1", requests_per_s=10.0)]}
    assert not judge_run(document, "rps>1000")
    assert document["slo"] == {"spec": "rps>1000", "passed": False, "failed_cells": ["grpc-x1"]}
    assert [c["flags"] for c in document["cells"]] == [["slo-pass"], ["slo-fail"]]
    assert judge_run(document, "rps>1")  # judged again: the flags are replaced, not added
    assert [c["flags"] for c in document["cells"]] == [["slo-pass"], ["slo-pass"]]


def test_bench_exits_non_zero_when_a_cell_fails_and_the_report_says_so(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "protobench.cli", "bench", "--protocols", "jsonrpc", "--users",
        "2", "--duration", "2", "--warmup", "1", "--out", str(tmp_path / "results"),
        "--slo", "p99<100000ms,rps>1000000000",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 3, done.stderr[-3000:]
    assert "FAIL" in done.stdout and "SLO p99<100000ms,rps>1000000000" in done.stdout
    [path] = (tmp_path / "results").glob("*/results.json")
    document = json.loads(path.read_text())
    [cell] = document["cells"]
    assert document["slo"]["passed"] is False and "slo-fail" in cell["flags"]
    assert [c["passed"] for c in cell["slo"]["checks"]] == [True, False]
    for lang, words in (("en", "SLO failed"), ("es", "SLO incumplido")):
        page = write_report(path, tmp_path / f"report.{lang}.html", lang=lang).read_text()
        assert words in page and "p99&lt;100000ms,rps&gt;1000000000" in page
