"""The lecture's table in one picture: for each measured row, the bytes one call put on the
wire (request plus response) against the server's CPU per call: what the table's "format
type" column costs, side by side."""

from __future__ import annotations

import math

from loadtests.report import readings
from loadtests.report.build import Group, Report
from loadtests.report.charts import Series, colour, line_chart
from loadtests.report.figures import Figure, _absent, _axis, _figure
from loadtests.report.i18n import Locale
from loadtests.report.lecture import Entry, entries, has_wire

LOG_SPAN = 10.0  # an axis whose values span more than this factor goes logarithmic


def _cost(group: Group) -> tuple[float, float]:
    wire = group.wire("request")["total"] + group.wire("response")["total"]
    return wire, group.cpu("server_us_per_request")


def _log(values: list[float]) -> bool:
    return min(values) > 0 and max(values) / min(values) > LOG_SPAN


def lecture_cost(report: Report, loc: Locale) -> Figure:
    points: list[tuple[Entry, float, float]] = []
    for entry in entries(report):
        if entry.group is not None and has_wire(entry.group):
            wire, server_us = _cost(entry.group)
            if not (math.isnan(wire) or math.isnan(server_us)):
                points.append((entry, wire, server_us))
    if len(points) < 2:
        return _absent("lecture", loc)
    series = [
        Series(e.label, [(wire, us)], colour(e.name, i), labels=[e.label])
        for i, (e, wire, us) in enumerate(points)
    ]
    xs, ys = [p[1] for p in points], [p[2] for p in points]
    x = _axis(loc.t("axis.bytes_both"), loc, log=_log(xs), zero=not _log(xs))
    y = _axis(loc.t("axis.server_us_per_call"), loc, log=_log(ys), zero=not _log(ys))
    svg = line_chart(series, x, y, loc.t("fig.lecture.title"))
    return _figure("lecture", loc, svg, _reading(points, loc))


def _reading(points: list[tuple[Entry, float, float]], loc: Locale) -> str:
    def fmt(entry: Entry) -> str:
        traits = entry.spec.traits if entry.spec else None
        return traits.payload if traits else "–"

    light = min(points, key=lambda p: p[1])
    heavy = max(points, key=lambda p: p[1])
    cheap = min(points, key=lambda p: p[2])
    dear = max(points, key=lambda p: p[2])
    text = loc.t(
        "fig.lecture.reading",
        light=light[0].label,
        light_format=fmt(light[0]),
        fewest=loc.num(light[1]),
        heavy=heavy[0].label,
        heavy_format=fmt(heavy[0]),
        most=loc.num(heavy[1]),
        bytes_ratio=loc.ratio(heavy[1] / light[1]),
        cheap=cheap[0].label,
        lowest=loc.num(cheap[2]),
        dear=dear[0].label,
        highest=loc.num(dear[2]),
        cpu_ratio=loc.ratio(dear[2] / cheap[2]),
    )
    groups = [e.group for e, _, _ in points if e.group is not None]
    return " ".join(p for p in (text, readings.flag_note(groups, loc)) if p)
