"""Inline SVG charts drawn in Python: a line chart and a horizontal bar chart.

No script and no external resource: the page must render from a file with networking off. Text
passed in is escaped here; colours come from the Okabe-Ito palette (readable by colour-blind
readers and in grey print).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from protobench.protocols import specs

DASHED = "6 4"
BALANCER_DASHES = {
    "none": "",
    "reuseport": "",
    "nginx": "6 4",
    "haproxy": "2 3",
    "client": "10 3 2 3",
}
PROTOCOL_COLOURS = {s.name: s.report.colour for s in specs()}  # each spec picks its own
OTHER_COLOURS = ("#E69F00", "#56B4E9", "#999999", "#F0E442", "#000000")
WIDTH = 640
FONT = 12
CHAR_W = 6.6  # average glyph width of the 12 px sans-serif font, for layout


def colour(name: str, index: int) -> str:
    return PROTOCOL_COLOURS.get(name, OTHER_COLOURS[index % len(OTHER_COLOURS)])


@dataclass(frozen=True)
class Axis:
    label: str
    num: Callable[[float, int], str]  # (value, decimals) -> text in the reader's locale
    fmt: Callable[[float], str]  # a measured value -> text (tooltips, bar ends)
    log: bool = False
    ticks: Sequence[tuple[float, str]] | None = None  # explicit (value, label) pairs
    zero: bool = True  # a linear axis starts at 0


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]
    colour: str
    dash: str = ""  # an SVG stroke-dasharray; empty for a solid line
    labels: Sequence[str] = ()  # written beside the points (e.g. the load of each)


@dataclass(frozen=True)
class Bar:
    label: str
    values: Sequence[float]
    total: float | None = None
    """What a stacked bar's end says when it is measured on its own, not the segments' sum
    (parts timed apart can add up to more than the whole)."""


@dataclass(frozen=True)
class _Scale:
    lo: float
    hi: float
    start: float
    end: float
    log: bool

    def __call__(self, value: float) -> float:
        v, lo, hi = value, self.lo, self.hi
        if self.log:
            v, lo, hi = math.log10(max(v, 1e-12)), math.log10(lo), math.log10(hi)
        return self.start + (v - lo) / ((hi - lo) or 1.0) * (self.end - self.start)


def _nice_step(span: float, count: int) -> float:
    raw = span / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _ticks(values: Sequence[float], axis: Axis) -> list[tuple[float, str]]:
    if axis.ticks is not None:
        return list(axis.ticks)
    lo, hi = min(values), max(values)
    if axis.log:
        lo, hi = max(lo, 1e-9), max(hi, 1e-9)
        first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        last = max(last, first + 1)
        steps = (1, 2, 5) if last - first <= 2 else (1,)
        ticks = [m * 10.0**k for k in range(first, last + 1) for m in steps]
        ticks = [t for t in ticks if t <= 10.0**last]
        return [(t, axis.num(t, _decimals(t))) for t in ticks]
    if axis.zero:
        lo = min(lo, 0.0)
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    step = _nice_step(hi - lo, 5)
    start = math.floor(lo / step) * step
    count = math.ceil((hi - start) / step - 1e-9)
    return [
        (start + i * step, axis.num(start + i * step, _decimals(step))) for i in range(count + 1)
    ]


def _decimals(value: float) -> int:
    """Decimals needed to write a tick value such as 0.05 (2), 2.5 (1) or 200 (0)."""
    for digits in range(0, 7):
        if abs(round(value, digits) - value) < 1e-9 * max(1.0, abs(value)):
            return digits
    return 6


def _scale(
    ticks: list[tuple[float, str]], values: Sequence[float], axis: Axis, start: float, end: float
) -> _Scale:
    positions = [t for t, _ in ticks] + list(values)
    return _Scale(min(positions), max(positions), start, end, axis.log)


def _text(
    x: float, y: float, text: str, anchor: str = "middle", extra: str = "", size: int = FONT
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"{extra}>'
        f"{escape(text)}</text>"
    )


def _legend(items: Sequence[tuple[str, str, str]], top: float, left: float) -> tuple[str, float]:
    """Swatches in rows; returns the SVG and the height used."""
    parts, x, y = [], left, top
    for name, fill, pattern in items:
        swatch = 26 if pattern else 16
        width = swatch + 6 + len(name) * CHAR_W + 14
        if x + width > WIDTH - 8 and x > left:
            x, y = left, y + 18
        dash = f' stroke-dasharray="{pattern}"' if pattern else ""
        parts.append(
            f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + swatch:.1f}" y2="{y - 4:.1f}" '
            f'stroke="{fill}" stroke-width="{3 if pattern else 6}"{dash}/>'
        )
        parts.append(_text(x + swatch + 6, y, name, "start"))
        x += width
    return "".join(parts), y - top + 18


def _frame(body: str, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'role="img" aria-label={quoteattr(title)} class="chart" '
        f'font-family="system-ui, sans-serif">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def line_chart(series: Sequence[Series], x: Axis, y: Axis, title: str) -> str:
    """Lines with point markers; a single-point series shows as a marker only."""
    legend, legend_h = _legend([(s.name, s.colour, s.dash) for s in series], 16, 64)
    top, left, right, plot_h = 16 + legend_h, 72, WIDTH - 20, 230
    bottom = top + plot_h
    xs = [p[0] for s in series for p in s.points]
    ys = [p[1] for s in series for p in s.points]
    x_ticks, y_ticks = _ticks(xs, x), _ticks(ys, y)
    sx, sy = _scale(x_ticks, xs, x, left, right), _scale(y_ticks, ys, y, bottom, top)
    parts = [legend]
    for value, label in y_ticks:
        py = sy(value)
        parts.append(f'<line x1="{left}" y1="{py:.1f}" x2="{right}" y2="{py:.1f}" class="grid"/>')
        parts.append(_text(left - 6, py + 4, label, "end"))
    for value, label in x_ticks:
        px = sx(value)
        parts.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{bottom}" class="grid"/>')
        parts.append(_text(px, bottom + 16, label))
    parts.append(
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{plot_h}" class="plot"/>'
    )
    for s in series:
        points = " ".join(f"{sx(px):.1f},{sy(py):.1f}" for px, py in s.points)
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{s.colour}" '
            f'stroke-width="2.2"{dash}><title>{escape(s.name)}</title></polyline>'
        )
        if len(s.points) <= 12:
            for px, py in s.points:
                parts.append(
                    f'<circle cx="{sx(px):.1f}" cy="{sy(py):.1f}" r="3.5" fill="{s.colour}">'
                    f"<title>{escape(f'{s.name}: {x.fmt(px)}, {y.fmt(py)}')}</title></circle>"
                )
        for (px, py), label in zip(s.points, s.labels, strict=False):
            ink = f' fill="{s.colour}"'
            if sx(px) + 6 + len(label) * CHAR_W * 10 / FONT > WIDTH:  # would leave the chart
                parts.append(_text(sx(px) - 6, sy(py) - 6, label, "end", ink, 10))
            else:
                parts.append(_text(sx(px) + 6, sy(py) - 6, label, "start", ink, 10))
    parts.append(_text((left + right) / 2, bottom + 36, x.label))
    parts.append(_text(16, (top + bottom) / 2, y.label, extra=_rotate(16, (top + bottom) / 2)))
    return _frame("".join(parts), bottom + 48, title)


def _rotate(x: float, y: float) -> str:
    return f' transform="rotate(-90 {x:.1f} {y:.1f})"'


def _ink(fill: str) -> str:
    """Dark text on a light fill, white on a dark one (relative luminance of ``#rrggbb``)."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#1d2330" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "#ffffff"


def hbar_chart(
    bars: Sequence[Bar],
    segments: Sequence[tuple[str, str]],
    x: Axis,
    title: str,
    stacked: bool = True,
    show_totals: bool = True,
) -> str:
    """One row per bar; ``stacked`` piles the segments (each labelled inside when it is wide
    enough, the sum at the end if ``show_totals``), otherwise they sit side by side."""
    legend, legend_h = _legend([(name, fill, "") for name, fill in segments], 16, 16)
    label_w = min(230.0, max(len(b.label) for b in bars) * CHAR_W + 16)
    top, left, right = 16 + legend_h, label_w, WIDTH - 70
    lane = 16.0 if stacked else 9.0
    row_h = (lane if stacked else lane * len(segments)) + 10
    totals = [sum(b.values) if stacked else max(b.values, default=0.0) for b in bars]
    ticks = _ticks([*totals, 0.0], x)
    sx = _scale(ticks, totals, x, left, right)
    bottom = top + row_h * len(bars) + 4
    parts = [legend]
    for value, label in ticks:
        px = sx(value)
        parts.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{bottom}" class="grid"/>')
        parts.append(_text(px, bottom + 16, label))
    for i, bar in enumerate(bars):
        y0 = top + 5 + i * row_h
        parts.append(_text(left - 8, y0 + row_h / 2, bar.label, "end"))
        offset = 0.0
        for k, (value, (name, fill)) in enumerate(zip(bar.values, segments, strict=True)):
            if stacked:
                x0, x1, yy = sx(offset), sx(offset + value), y0
                offset += value
            else:
                x0, x1, yy = sx(0.0), sx(value), y0 + k * lane
            tip = escape(f"{bar.label} · {name}: {x.fmt(value)}")
            parts.append(
                f'<rect x="{x0:.1f}" y="{yy:.1f}" width="{max(x1 - x0, 0.0):.1f}" '
                f'height="{lane - 1:.1f}" fill="{fill}"><title>{tip}</title></rect>'
            )
            if not stacked:
                parts.append(_text(x1 + 4, yy + lane - 2, x.fmt(value), "start", size=10))
            elif x1 - x0 > len(x.fmt(value)) * 6 + 8:
                ink = f' fill="{_ink(fill)}"'
                parts.append(_text((x0 + x1) / 2, yy + lane - 4, x.fmt(value), extra=ink, size=10))
        if stacked and show_totals:
            said = offset if bar.total is None else bar.total
            parts.append(_text(sx(offset) + 4, y0 + lane - 3, x.fmt(said), "start"))
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" class="axis"/>')
    parts.append(_text((left + right) / 2, bottom + 36, x.label))
    return _frame("".join(parts), bottom + 48, title)
