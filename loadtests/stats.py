"""Numbers from exact samples: throughput, latency percentiles, stability, repeat intervals."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import t as student_t  # type: ignore[import-untyped]

from loadtests.samples import OK, SampleArrays

PERCENTILES = (50.0, 90.0, 99.0, 99.9)  # nearest rank: the smallest latency >= p % of samples
UNSTABLE_RATIO = 0.15  # halves whose throughput differs by more than this flag the cell

CONFIDENCE = 0.95


def nearest_rank(values: np.ndarray, percentiles: Any) -> np.ndarray:
    """The smallest value that at least p % of the values do not exceed (no interpolation).

    The rank is rounded before ``ceil`` so that 99.9 % of 1000 is rank 999, not 1000 through
    floating-point noise.
    """
    ordered = np.sort(values)
    ranks = np.ceil(np.round(np.asarray(percentiles, dtype=float) / 100.0 * len(ordered), 9))
    result: np.ndarray = ordered[np.clip(ranks.astype(int), 1, len(ordered)) - 1]
    return result


@dataclass(frozen=True)
class LatencySummary:
    """Milliseconds."""

    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    mean: float

    @classmethod
    def of(cls, seconds: np.ndarray) -> LatencySummary:
        if len(seconds) == 0:
            nan = math.nan
            return cls(nan, nan, nan, nan, nan, nan)
        ms = seconds * 1000.0
        p50, p90, p99, p999 = nearest_rank(ms, PERCENTILES)
        return cls(float(p50), float(p90), float(p99), float(p999), float(ms.max()),
                   float(ms.mean()))  # fmt: skip


@dataclass(frozen=True)
class WindowStats:
    requests: int
    ok: int
    errors: dict[str, int]
    duration_s: float
    requests_per_s: float
    predictions_per_s: float
    latency: LatencySummary  # from the actual send time
    latency_corrected: LatencySummary  # from the intended send time (open model)
    first_half_rps: float
    second_half_rps: float

    @property
    def unstable(self) -> bool:
        halves = (self.first_half_rps, self.second_half_rps)
        top = max(halves)
        return top > 0 and (top - min(halves)) / top > UNSTABLE_RATIO


def window_stats(samples: SampleArrays, start: float, end: float) -> WindowStats:
    """Statistics of the requests intended in [start, end)."""
    inside = samples.window(start, end)
    duration = end - start
    ok = inside.errors == OK
    middle = start + duration / 2
    first = int(np.count_nonzero(inside.intended < middle))
    second = len(inside) - first
    return WindowStats(
        requests=len(inside),
        ok=int(np.count_nonzero(ok)),
        errors=dict(Counter(str(e) for e in inside.errors[~ok])),
        duration_s=duration,
        requests_per_s=int(np.count_nonzero(ok)) / duration,
        predictions_per_s=float(inside.predictions[ok].sum()) / duration,
        latency=LatencySummary.of((inside.done - inside.sent)[ok]),
        latency_corrected=LatencySummary.of((inside.done - inside.intended)[ok]),
        first_half_rps=first / (duration / 2),
        second_half_rps=second / (duration / 2),
    )


def percentile_curve(seconds: np.ndarray, points: int = 60) -> list[tuple[float, float]]:
    """(percentile, ms) pairs spaced for an HDR-style plot: dense towards the tail."""
    if len(seconds) == 0:
        return []
    # 1 - 10^-k for k in [0.3, 5]: 50 %, 90 %, 99 %, ..., 99.999 %.
    tails = 1.0 - np.logspace(-0.30103, -5, points)
    values = nearest_rank(seconds * 1000.0, tails * 100.0)
    return [(float(p * 100.0), float(v)) for p, v in zip(tails, values, strict=True)]


@dataclass(frozen=True)
class Interval:
    median: float
    low: float
    high: float
    n: int


def confidence_interval(values: list[float]) -> Interval:
    """Median and a 95 % t-interval of the mean across repeats (degenerate for one repeat)."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if len(data) == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    median = float(np.median(data))
    if len(data) == 1:
        return Interval(median, median, median, 1)
    # the two-sided Student t quantile for n-1 degrees of freedom, exact for any n (scipy)
    t = float(student_t.ppf(0.5 + CONFIDENCE / 2, df=len(data) - 1))
    half = t * float(data.std(ddof=1)) / math.sqrt(len(data))
    mean = float(data.mean())
    return Interval(median, mean - half, mean + half, len(data))
