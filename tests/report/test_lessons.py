"""The scaling lessons in the report: capacity-limited cells are kept apart from the protocol
comparison, drive the scaling chart (with expected values), the knee per replica count, the
gRPC one-channel bars and the fleet note, in both languages."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from loadtests.report import render
from loadtests.report.build import build
from loadtests.report.figures import figures
from loadtests.report.i18n import Locale
from loadtests.report.notes import notes

PER_REPLICA = 100.0


def _lesson(cell: dict[str, Any], replicas: int, rps: float, **changes: Any) -> dict[str, Any]:
    lesson = copy.deepcopy(cell)
    lesson.update(
        replicas=replicas, balancer="none" if replicas == 1 else "nginx", requests_per_s=rps,
        model_workers=1, model_service_ms=10.0, model_delay_ms=0.0, repeat=0, **changes,
    )  # fmt: skip
    return lesson


def _lessons(results: Path) -> dict[str, Any]:
    """The fixture's cells as the demo's lessons would record them, with known throughputs."""
    document: dict[str, Any] = json.loads(results.read_text())
    closed = next(c for c in document["cells"] if c["protocol"] == "rest" and c["rate"] is None)
    opened = next(c for c in document["cells"] if c["protocol"] == "rest" and c["rate"])
    cells = [_lesson(closed, n, 0.97 * n * PER_REPLICA, users=32) for n in (1, 2, 4)]
    for n in (1, 2):
        for rate in (50.0, 150.0, 250.0):
            served = min(rate, n * PER_REPLICA * 0.99)
            cells.append(_lesson(opened, n, served, rate=rate))
    shares = {"replica-0": 1.0, "replica-1": 0.0}
    for balancer, split in (("reuseport", shares), ("client", {"replica-0": 0.5,
                                                               "replica-1": 0.5})):  # fmt: skip
        cell = _lesson(closed, 2, PER_REPLICA, users=1, replica_shares=split)
        cells.append({**cell, "protocol": "grpc", "balancer": balancer})
    return {**document, "run_id": "lessons", "cells": cells}


def test_lessons_are_kept_apart_from_the_protocol_comparison(results: Path) -> None:
    comparison: dict[str, Any] = json.loads(results.read_text())
    report = build([comparison, _lessons(results)])
    assert len(report.lessons) == 3 + 6 + 2
    assert all(not g.capacity_limited for g in report.groups)
    plain = build([comparison])
    assert report.reference("rest") == plain.reference("rest")  # the headline is unchanged


@pytest.mark.parametrize("lang", ["es", "en"])
def test_scaling_chart_and_knee_use_the_lessons_with_expected_values(
    results: Path, lang: str
) -> None:
    loc = Locale(lang)
    drawn = {f.key: f for f in figures(build([_lessons(results)]), loc)}
    scaling = drawn["scaling"]
    assert scaling.svg is not None
    assert "rest ×4 388" in scaling.reading and "400" in scaling.reading  # measured, expected
    knee = drawn["replica_knee"]
    assert knee.svg is not None and "rest ×1" in knee.svg and "rest ×2" in knee.svg
    # one replica served 50/s in full but not 150/s; two served 150/s but not 250/s
    assert loc.t("read.replica_knee.kept", n=1, rate=loc.num(50)) in knee.reading
    assert loc.t("read.replica_knee.kept", n=2, rate=loc.num(150)) in knee.reading
    spread = drawn["spread"]
    assert spread.svg is not None and "reuseport" in spread.svg and "client" in spread.svg


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_fleet_note_and_the_lesson_rows_are_in_both_languages(
    results: Path, tmp_path: Path, lang: str
) -> None:
    loc = Locale(lang)
    fleet = next(n for n in notes(build([_lessons(results)]), loc) if n.key == "fleet")
    assert fleet.title == loc.t("note.fleet.title") and fleet.text == loc.t("note.fleet.text")
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_lessons(results)))
    row = loc.t("row.lesson", per=loc.num(PER_REPLICA))
    assert row in render(path, lang)
    assert row not in render(results, lang)  # the comparison alone has no lesson rows
