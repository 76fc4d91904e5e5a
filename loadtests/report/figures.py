"""The report's charts: for each, the data it needs from the view model, the SVG, the reading.

A chart whose data is absent from the run gets no SVG and one line saying which run would
produce it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from loadtests.breakdown import CLIENT_STAGES, SERVER_STAGES
from loadtests.report import lessons, readings
from loadtests.report.build import Group, Report
from loadtests.report.charts import (
    BALANCER_DASHES,
    DASHED,
    Axis,
    Bar,
    Series,
    colour,
    hbar_chart,
    line_chart,
)
from loadtests.report.i18n import Locale

SEGMENT_COLOURS = ("#56B4E9", "#999999", "#0072B2")  # headers, framing, body
STAGE_COLOURS = {
    "floor": "#999999",
    "decode": "#56B4E9",
    "core": "#E69F00",
    "model": "#009E73",
    "encode": "#0072B2",
    "other": "#CC79A7",
}


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    what: str  # what the chart shows, one sentence
    svg: str | None
    reading: str  # the computed reading, or why the chart is missing


def _absent(key: str, loc: Locale) -> Figure:
    return Figure(
        key, loc.t(f"fig.{key}.title"), loc.t(f"fig.{key}.what"), None, loc.t(f"fig.{key}.absent")
    )


def _figure(key: str, loc: Locale, svg: str, reading: str) -> Figure:
    return Figure(key, loc.t(f"fig.{key}.title"), loc.t(f"fig.{key}.what"), svg, reading)


def _supported(curve: list[tuple[float, float]], requests: int) -> list[tuple[float, float]]:
    """Points of an HDR curve as (1/(1-p), ms), cut where fewer than one sample lies beyond."""
    return [(1.0 / (1.0 - p / 100.0), ms) for p, ms in curve if requests * (1.0 - p / 100.0) >= 1.0]


def _tail_axis(points: Sequence[float], loc: Locale) -> Axis:
    """A log axis of 1/(1-p), labelled with the percentiles 50, 90, 99, 99.9, ..."""
    top = max(points, default=10.0)
    ticks = [(2.0, 0), (10.0, 0), (100.0, 0), (1e3, 1), (1e4, 2), (1e5, 3)]
    shown = [
        (x, f"{loc.num(100.0 - 100.0 / x, digits)}\u00a0%")
        for x, digits in ticks
        if x <= top * 1.0001
    ]
    return _axis(loc.t("axis.percentile"), loc, log=True, ticks=shown)


def _axis(label: str, loc: Locale, **options: Any) -> Axis:
    return Axis(label, loc.num, loc.auto, **options)


def _ms_axis(values: Sequence[float], loc: Locale, label: str) -> Axis:
    positive = [v for v in values if v > 0]
    log = bool(positive) and max(positive) / min(positive) > 30
    return _axis(label, loc, log=log)


def scaling(report: Report, loc: Locale) -> Figure:
    several = len({b for p in report.protocols for b in report.scaling(p)}) > 1
    series, lines = [], []
    for i, protocol in enumerate(report.protocols):
        for balancer, groups in report.scaling(protocol).items():
            if len(groups) < 2:
                continue
            name = f"{protocol} ({balancer})" if several else protocol
            series.append(
                Series(
                    name,
                    [(g.replicas, g.rps.median) for g in groups],
                    colour(protocol, i),
                    dash=BALANCER_DASHES.get(balancer, DASHED) if several else "",
                )
            )
            lines.append(readings.ScalingLine(name, groups))
    if not series:
        return _absent("scaling", loc)
    replicas = sorted({x for s in series for x, _ in s.points})
    x = _axis(loc.t("axis.replicas"), loc, ticks=[(r, loc.num(r)) for r in replicas])
    svg = line_chart(series, x, _axis(loc.t("axis.rps"), loc), loc.t("fig.scaling.title"))
    reading = readings.scaling(lines, report, loc)
    expected = lessons.expected_sentence([line.groups for line in lines], loc)
    return _figure("scaling", loc, svg, f"{reading} {expected}".strip())


def _hdr(key: str, series: list[Series], reading: Callable[[], str], loc: Locale) -> Figure:
    """An HDR percentile plot of ``series`` (points already (1/(1-p), ms))."""
    series = [s for s in series if len(s.points) >= 2]
    if not series:
        return _absent(key, loc)
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    x, y = _tail_axis(xs, loc), _ms_axis(ys, loc, loc.t("axis.latency"))
    return _figure(key, loc, line_chart(series, x, y, loc.t(f"fig.{key}.title")), reading())


def percentiles(report: Report, loc: Locale) -> Figure:
    refs = [g for p in report.protocols if (g := report.reference(p)) is not None]
    series = [
        Series(g.protocol, _supported(g.curve(), g.requests), colour(g.protocol, i))
        for i, g in enumerate(refs)
    ]
    return _hdr("percentiles", series, lambda: readings.percentiles(refs, loc), loc)


def _lines(
    report: Report,
    select: Callable[[str], list[Group]],
    point: Callable[[Group], tuple[float, float]],
    label: Callable[[Group], str] | None = None,
) -> tuple[dict[str, list[Group]], list[Series]]:
    """One line per protocol through the groups ``select`` picks, if it picks two or more."""
    picked = {p: groups for p in report.protocols if len(groups := select(p)) >= 2}
    series = [
        Series(
            p,
            [point(g) for g in groups],
            colour(p, i),
            labels=[label(g) for g in groups] if label else (),
        )
        for i, (p, groups) in enumerate(picked.items())
    ]
    return picked, series


def knee(report: Report, loc: Locale) -> Figure:
    sweeps, series = _lines(
        report,
        report.sweep,
        lambda g: (g.rps.median, g.latency("p99")),
        lambda g: readings.load_label(g, loc),
    )
    if not sweeps:
        return _absent("knee", loc)
    ys = [y for s in series for _, y in s.points]
    svg = line_chart(
        series,
        _axis(loc.t("axis.rps"), loc),
        _ms_axis(ys, loc, loc.t("axis.p99")),
        loc.t("fig.knee.title"),
    )
    return _figure("knee", loc, svg, readings.knee(sweeps, loc))


def wire(report: Report, loc: Locale) -> Figure:
    refs = [
        g
        for p in report.protocols
        if (g := report.reference(p)) is not None and not math.isnan(g.wire("request")["total"])
    ]
    if not refs:
        return _absent("wire", loc)
    parts = ("headers", "framing", "body")
    bars = [
        Bar(f"{g.protocol} · {loc.t(f'wire.{d}')}", [g.wire(d)[p] for p in parts])
        for g in refs
        for d in ("request", "response")
    ]
    segments = [(loc.t(f"wire.{p}"), c) for p, c in zip(parts, SEGMENT_COLOURS, strict=True)]
    svg = hbar_chart(bars, segments, _axis(loc.t("axis.bytes"), loc), loc.t("fig.wire.title"))
    return _figure("wire", loc, svg, readings.wire(refs, loc))


def cpu(report: Report, loc: Locale) -> Figure:
    refs = [g for p in report.protocols if (g := report.reference(p)) is not None]
    if not refs:
        return _absent("cpu", loc)
    keys = ["server_us_per_request", "generator_us_per_request"]
    if any(g.cpu("balancer_us_per_request") > 0 for g in refs):
        keys.append("balancer_us_per_request")
    bars = [Bar(g.protocol, [g.cpu(k) for k in keys]) for g in refs]
    segments = [
        (loc.t(f"cpu.{k}"), c)
        for k, c in zip(keys, ("#0072B2", "#E69F00", "#999999"), strict=False)
    ]
    svg = hbar_chart(
        bars,
        segments,
        _axis(loc.t("axis.us_per_request"), loc),
        loc.t("fig.cpu.title"),
        stacked=False,
    )
    return _figure("cpu", loc, svg, readings.cpu(refs, loc))


def spread(report: Report, loc: Locale) -> Figure:
    groups = report.spread()
    if not groups:
        return _absent("spread", loc)
    width = max(len(g.replica_shares) for g in groups)
    bars = [
        Bar(
            readings.spread_label(g, loc),
            [*g.replica_shares.values(), *[0.0] * (width - len(g.replica_shares))],
        )
        for g in groups
    ]
    segments = [(f"{loc.t('spread.replica')} {i + 1}", colour("", i)) for i in range(width)]
    axis = Axis(
        loc.t("axis.share"),
        lambda v, _: loc.pct(v),
        loc.pct,
        ticks=[(v / 4, loc.pct(v / 4)) for v in range(5)],
    )
    svg = hbar_chart(bars, segments, axis, loc.t("fig.spread.title"), show_totals=False)
    return _figure("spread", loc, svg, readings.spread(groups, loc))


def corrected(report: Report, loc: Locale) -> Figure:
    groups = report.open_groups()
    series = [
        Series(
            f"{g.protocol} · {loc.t('corrected.yes' if fixed else 'corrected.no')}",
            _supported(g.curve(fixed), g.requests),
            colour(g.protocol, i),
            dash=DASHED if fixed else "",
        )
        for i, g in enumerate(groups)
        for fixed in (False, True)
    ]
    return _hdr("corrected", series, lambda: readings.corrected(groups, loc), loc)


def batch(report: Report, loc: Locale) -> Figure:
    sweeps, series = _lines(
        report, report.batches, lambda g: (g.batch, readings.us_per_prediction(g))
    )
    if not sweeps:
        return _absent("batch", loc)
    sizes = sorted({g.batch for groups in sweeps.values() for g in groups})
    x = _axis(
        loc.t("axis.batch"),
        loc,
        log=sizes[-1] / sizes[0] >= 10,
        ticks=[(b, loc.num(b)) for b in sizes],
    )
    y = _axis(loc.t("axis.us_per_prediction"), loc, log=True)
    svg = line_chart(series, x, y, loc.t("fig.batch.title"))
    return _figure("batch", loc, svg, readings.batch(sweeps, loc))


def replica_knee(report: Report, loc: Locale) -> Figure:
    series, parts = [], []
    for i, protocol in enumerate(report.protocols):
        knees = report.knees(protocol)
        for n, groups in knees.items():
            series.append(
                Series(
                    f"{protocol} ×{n}",
                    [(g.rate or 0.0, g.latency("p99", corrected=True)) for g in groups],
                    colour(protocol, i),
                    dash=lessons.DASH_BY_REPLICAS.get(n, DASHED),
                )
            )
        if knees:
            kept = ", ".join(
                loc.t("read.replica_knee.kept", n=n, rate=loc.num(lessons.kept_up_to(gs)))
                for n, gs in knees.items()
            )
            parts.append(f"{protocol}: {kept}")
    if not series:
        return _absent("replica_knee", loc)
    ys = [y for s in series for _, y in s.points]
    svg = line_chart(
        series,
        _axis(loc.t("axis.offered"), loc),
        _ms_axis(ys, loc, loc.t("axis.p99_corrected")),
        loc.t("fig.replica_knee.title"),
    )
    reading = loc.t("read.replica_knee", points="; ".join(parts))
    return _figure("replica_knee", loc, svg, reading)


def _cost_breakdown(
    key: str, side: str, stages: Sequence[str], report: Report, loc: Locale
) -> Figure:
    data = report.breakdown
    if not data:
        return _absent(key, loc)
    protocols = [p for p in dict.fromkeys((*report.protocols, *data)) if p in data]
    bars = [
        Bar(p, [data[p][side][stage] for stage in stages], total=data[p][side]["total"])
        for p in protocols
    ]
    segments = [(loc.t(f"breakdown.{side}.{s}"), STAGE_COLOURS[s]) for s in stages]
    axis = _axis(loc.t("axis.us_per_request"), loc)
    svg = hbar_chart(bars, segments, axis, loc.t(f"fig.{key}.title"))
    return _figure(key, loc, svg, readings.breakdown(data, side, loc))


def breakdown(report: Report, loc: Locale) -> Figure:
    return _cost_breakdown("breakdown", "server", SERVER_STAGES, report, loc)


def breakdown_client(report: Report, loc: Locale) -> Figure:
    return _cost_breakdown("breakdown_client", "client", CLIENT_STAGES, report, loc)


FIGURES: tuple[Callable[[Report, Locale], Figure], ...] = (
    scaling,
    replica_knee,
    percentiles,
    knee,
    wire,
    cpu,
    breakdown,
    breakdown_client,
    spread,
    corrected,
    batch,
)


def figures(report: Report, loc: Locale) -> list[Figure]:
    return [draw(report, loc) for draw in FIGURES]
