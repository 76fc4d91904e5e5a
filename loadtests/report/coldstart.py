"""The cold-start chart and note: what a start from zero costs the first caller, per protocol
(``bench --cold-starts N`` records it; ``loadtests.coldstart`` measures it)."""

from __future__ import annotations

from typing import Any

from loadtests.report.build import Report
from loadtests.report.charts import Axis, Bar, hbar_chart
from loadtests.report.figures import Figure, _absent, _figure
from loadtests.report.i18n import Locale
from loadtests.report.notes import Note

CONDITION_COLOURS = ("#0072B2", "#E69F00")  # models on disk, training on first use


def _measured(report: Report) -> dict[str, Any] | None:
    """The last run's cold-start block, if any run has one."""
    found = [r["cold_start"] for r in report.runs if r.get("cold_start")]
    return found[-1] if found else None


def _range(values: list[float], loc: Locale) -> str:
    return f"{loc.num(min(values), 2)}–{loc.num(max(values), 2)}"


def coldstart(report: Report, loc: Locale) -> Figure:
    measured = _measured(report)
    if measured is None:
        return _absent("coldstart", loc)
    medians: dict[str, dict[str, float]] = measured["median_s"]
    protocols = list(medians)
    conditions = ("models_on_disk", "train_on_first_use")
    bars = [Bar(p, [medians[p][c] for c in conditions]) for p in protocols]
    segments = [
        (loc.t(f"coldstart.{c}"), colour)
        for c, colour in zip(conditions, CONDITION_COLOURS, strict=True)
    ]
    x = Axis(loc.t("axis.seconds"), loc.num, lambda v: loc.num(v, 2))
    svg = hbar_chart(bars, segments, x, loc.t("fig.coldstart.title"), stacked=False)
    lines = [
        loc.t(
            "fig.coldstart.line",
            protocol=p,
            disk=loc.num(medians[p]["models_on_disk"], 2),
            disk_range=_range(measured["seconds"][p]["models_on_disk"], loc),
            train=loc.num(medians[p]["train_on_first_use"], 2),
            train_range=_range(measured["seconds"][p]["train_on_first_use"], loc),
            n=measured["starts"],
        )
        for p in protocols
    ]
    return _figure("coldstart", loc, svg, " ".join(lines))


def note(report: Report, loc: Locale) -> Note:
    return Note(
        "coldstart",
        loc.t("note.coldstart.title"),
        loc.t("note.coldstart.text"),
        _evidence(report, loc),
    )


def _evidence(report: Report, loc: Locale) -> str:
    """The scale-to-zero note's numbers: the fastest and slowest protocol from zero."""
    measured = _measured(report)
    if measured is None:
        return ""
    disk = {p: m["models_on_disk"] for p, m in measured["median_s"].items()}
    train = {p: m["train_on_first_use"] for p, m in measured["median_s"].items()}
    fast, slow = min(disk, key=disk.__getitem__), max(disk, key=disk.__getitem__)
    return loc.t(
        "note.coldstart.evidence",
        fast=fast,
        fast_s=loc.num(disk[fast], 2),
        slow=slow,
        slow_s=loc.num(disk[slow], 2),
        train_s=loc.num(max(train.values()), 2),
        n=measured["starts"],
    )
