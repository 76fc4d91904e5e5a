"""The scaling lessons in the report (issue 15): runs on the capacity-limited model, whose
capacity per replica is known, so every measurement has an expected value beside it.

- ``expected_sentence``: measured against N × K × 1000 / S under the scaling chart;
- ``figures.replica_knee``: the open-model sweep, offered rate against the corrected p99, one line
  per protocol and replica count — the knee moves right with N;
- the fleet note: what a real fleet of machines adds that one box cannot show.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.report.build import Group
from loadtests.report.charts import DASHED
from loadtests.report.i18n import Locale

KEPT_UP = 0.95  # served at least this share of the offered rate: the replicas kept up
DASH_BY_REPLICAS = {1: "", 2: DASHED, 4: "2 3"}


def expected_sentence(lines: Sequence[Sequence[Group]], loc: Locale) -> str:
    """Measured against expected for every capacity-limited point of the scaling chart."""
    points = [g for groups in lines for g in groups if g.capacity_limited]
    if not points:
        return ""
    per = points[0].per_replica_capacity
    parts = [
        loc.t(
            "read.lesson.point",
            protocol=g.protocol,
            n=g.replicas,
            measured=loc.num(g.rps.median),
            expected=loc.num(g.replicas * g.per_replica_capacity),
            share=loc.pct(g.rps.median / (g.replicas * g.per_replica_capacity)),
        )
        for g in points
        if g.replicas > 1
    ]
    return loc.t("read.lesson.expected", per=loc.num(per), points="; ".join(parts))


def kept_up_to(groups: Sequence[Group]) -> float | None:
    """The highest offered rate the replicas served in full (None: not even the lowest)."""
    kept = [g.rate or 0.0 for g in groups if g.rps.median >= KEPT_UP * (g.rate or 0.0)]
    return max(kept, default=None)
