"""From results documents to the report's view model: groups of repeats and chart slices.

A *group* is the cells of one configuration that differ only by their repeat index; every number
the page shows is a group's median across repeats (req/s also gets its 95 % interval).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from loadtests.results import load_run
from loadtests.stats import Interval, confidence_interval
from loadtests.summary import group_repeats
from protobench.protocols import PROTOCOLS

Cell = dict[str, Any]
SLICE_FIELDS = ("replicas", "balancer", "users", "rate", "batch")


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class Group:
    protocol: str
    replicas: int
    balancer: str
    users: int
    rate: float | None
    batch: int
    payload: str
    cells: tuple[Cell, ...] = field(repr=False)
    model: tuple[float, ...] = ()  # loadtests.summary.server_model

    @property
    def open(self) -> bool:
        return self.rate is not None

    @property
    def capacity_limited(self) -> bool:
        """The replicas ran the capacity-limited model (K workers held S ms each)."""
        return bool(self.model) and bool(self.model[1]) and bool(self.model[2])

    @property
    def per_replica_capacity(self) -> float:
        """K × 1000 / S requests per second, NaN for any other model."""
        return self.model[1] * 1000.0 / self.model[2] if self.capacity_limited else math.nan

    def median(self, value: Callable[[Cell], Any]) -> float:
        return confidence_interval([_number(value(c)) for c in self.cells]).median

    @cached_property
    def rps(self) -> Interval:
        return confidence_interval([_number(c["requests_per_s"]) for c in self.cells])

    def latency(self, key: str, corrected: bool = False) -> float:
        field_name = "latency_corrected_ms" if corrected else "latency_ms"
        return self.median(lambda c: c[field_name][key])

    @property
    def predictions_per_s(self) -> float:
        return self.median(lambda c: c["predictions_per_s"])

    @property
    def little(self) -> float:
        return self.median(lambda c: c.get("little_concurrency"))

    @property
    def requests(self) -> int:
        """Requests in the measured window of the representative repeat."""
        return int(self.representative.get("requests", 0))

    @property
    def errors(self) -> int:
        return sum(sum(c["errors"].values()) for c in self.cells)

    @property
    def error_codes(self) -> dict[str, int]:
        codes: dict[str, int] = {}
        for cell in self.cells:
            for code, n in cell["errors"].items():
                codes[code] = codes.get(code, 0) + n
        return codes

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(sorted({f for c in self.cells for f in c.get("flags", [])}))

    def cpu(self, key: str) -> float:
        return self.median(lambda c: c["cpu"].get(key))

    @property
    def capacity(self) -> Interval:
        """Requests/s one server core could answer: 1 ÷ server CPU seconds per request, per
        repeat (it does not depend on how hard the generator pushed)."""
        return confidence_interval([_number(c["cpu"].get("capacity_per_core")) for c in self.cells])

    @property
    def generator_share(self) -> float:
        return max(_number(c["cpu"].get("generator_busiest_share")) for c in self.cells)

    def wire(self, direction: str) -> dict[str, float]:
        """Bytes per call in ``direction`` (request/response) split headers/framing/body."""
        values = [c["wire_bytes"][direction] for c in self.cells]
        parts = ("headers", "framing", "body", "total")
        return {p: confidence_interval([_number(v[p]) for v in values]).median for p in parts}

    @cached_property
    def representative(self) -> Cell:
        """The repeat whose throughput is closest to the median: its curves get drawn."""
        median = self.rps.median
        return min(self.cells, key=lambda c: abs(_number(c["requests_per_s"]) - median))

    def curve(self, corrected: bool = False) -> list[tuple[float, float]]:
        key = "percentile_curve_corrected" if corrected else "percentile_curve"
        return [(float(p), float(ms)) for p, ms in self.representative.get(key, [])]

    @property
    def replica_shares(self) -> dict[str, float]:
        shares: dict[str, float] = self.representative.get("replica_shares", {})
        return dict(sorted(shares.items()))

    @property
    def measured(self) -> bool:
        """At least one successful request in the window: there are latencies to show."""
        return not math.isnan(self.latency("p50"))


@dataclass(frozen=True)
class Report:
    """Every group of every run given, plus the runs' manifests and configurations.

    ``groups`` compare the protocols on the real model; ``lessons`` ran the capacity-limited
    model, whose capacity per replica is known, to teach scaling (issue 15): the scaling
    chart, the knee per replica count and the gRPC channel lesson use them when present."""

    runs: tuple[dict[str, Any], ...]
    groups: tuple[Group, ...]
    lessons: tuple[Group, ...] = ()
    native: tuple[Group, ...] = ()  # the same cells driven by wrk / h2load (loadtests/native.py)

    def cross_checks(self) -> list[tuple[Group, Group]]:
        """(Locust group, native group) pairs of the same configuration."""

        def same(g: Group) -> tuple[Any, ...]:
            return (g.protocol, g.replicas, g.balancer, g.users, g.rate, g.batch, g.payload,
                    g.model)  # fmt: skip

        locust = {same(g): g for g in self.groups}
        return [(locust[same(n)], n) for n in self.native if same(n) in locust]

    @property
    def breakdown(self) -> dict[str, dict[str, dict[str, float]]]:
        """The newest run's per-protocol CPU breakdown of one predict (``loadtests.breakdown``),
        or {} when no run measured one."""
        for run in reversed(self.runs):
            if run.get("breakdown"):
                protocols: dict[str, dict[str, dict[str, float]]] = run["breakdown"]["protocols"]
                return protocols
        return {}

    @property
    def protocols(self) -> tuple[str, ...]:
        present = {g.protocol for g in (*self.groups, *self.lessons)}
        return tuple(p for p in PROTOCOLS if p in present) + tuple(sorted(present - set(PROTOCOLS)))

    def of(self, protocol: str, *, open: bool | None = None) -> list[Group]:
        return [
            g for g in self.groups if g.protocol == protocol and (open is None or g.open == open)
        ]

    def reference(self, protocol: str) -> Group | None:
        """The protocol's headline cell: closed loop, fewest replicas, smallest batch, most
        users (the open model if there is no closed one)."""
        candidates = [g for g in self.of(protocol, open=False) if g.measured] or [
            g for g in self.of(protocol) if g.measured
        ]
        if not candidates:
            return None
        replicas = min(g.replicas for g in candidates)
        batch = min(g.batch for g in candidates if g.replicas == replicas)
        same = [g for g in candidates if g.replicas == replicas and g.batch == batch]
        return max(same, key=lambda g: (g.users, g.rate or 0.0))

    def around(self, protocol: str, *free: str) -> list[Group]:
        """The largest set of measured groups that differ only in the ``free`` fields; among
        equally large sets, the one closest to the protocol's reference."""
        ref = self.reference(protocol)
        if ref is None:
            return []
        fixed = [f for f in SLICE_FIELDS if f not in free]
        slices: dict[tuple[Any, ...], list[Group]] = defaultdict(list)
        for g in self.of(protocol, open=ref.open):
            if g.measured:
                slices[tuple(getattr(g, f) for f in fixed)].append(g)

        def rank(key: tuple[Any, ...]) -> tuple[int, int]:
            points = {tuple(getattr(g, f) for f in free) for g in slices[key]}
            return len(points), sum(v == getattr(ref, f) for v, f in zip(key, fixed, strict=True))

        return slices[max(slices, key=rank)]

    def sweep(self, protocol: str) -> list[Group]:
        """The load sweep at the reference's replicas and batch: users (closed) or rates (open)."""
        return sorted(
            self.around(protocol, "users", "rate"), key=lambda g: (g.users, g.rate or 0.0)
        )

    def scaling(self, protocol: str) -> dict[str, list[Group]]:
        """Throughput by replica count, one list per balancer, at the reference load and batch
        (the capacity-limited lessons' closed load when there are any). The single-replica
        group (balancer ``none``) starts every list."""
        load = self._lesson_scaling(protocol) or self.around(protocol, "replicas", "balancer")
        single = [g for g in load if g.replicas == 1]
        balancers = sorted({g.balancer for g in load if g.replicas > 1})
        return {
            b: sorted(
                single + [g for g in load if g.balancer == b and g.replicas > 1],
                key=lambda g: g.replicas,
            )
            for b in balancers
        }

    def _lesson_scaling(self, protocol: str) -> list[Group]:
        closed = [g for g in self.lessons if g.protocol == protocol and not g.open and g.measured]
        if not closed:
            return []
        users = max(g.users for g in closed)
        return [g for g in closed if g.users == users]

    def knees(self, protocol: str) -> dict[int, list[Group]]:
        """The lessons' open-model sweep: groups by offered rate, one list per replica count."""
        out: dict[int, list[Group]] = defaultdict(list)
        for g in self.lessons:
            if g.protocol == protocol and g.open and g.measured:
                out[g.replicas].append(g)
        return {n: sorted(gs, key=lambda g: g.rate or 0.0) for n, gs in sorted(out.items())
                if len(gs) >= 2}  # fmt: skip

    def channel_lesson(self) -> list[Group]:
        """The lessons' single-user groups on several replicas: where one connection lands."""
        return sorted(
            (g for g in self.lessons if g.replicas > 1 and g.users == 1 and g.replica_shares),
            key=lambda g: (g.protocol, g.balancer),
        )

    def batches(self, protocol: str) -> list[Group]:
        return sorted(self.around(protocol, "batch"), key=lambda g: g.batch)

    def spread(self) -> list[Group]:
        """Multi-replica groups at each protocol's reference batch and highest load."""
        out = []
        for protocol in self.protocols:
            ref = self.reference(protocol)
            multi = [
                g
                for g in self.of(protocol)
                if g.replicas > 1 and g.replica_shares and (ref is None or g.batch == ref.batch)
            ]
            top = max((g.users for g in multi), default=0)
            out += sorted(
                (g for g in multi if g.users == top),
                key=lambda g: (g.balancer, g.replicas, g.rate or 0.0),
            )
        return out + self.channel_lesson()

    def open_groups(self) -> list[Group]:
        """Per protocol, the open-model group with the highest offered rate."""
        out = []
        for protocol in self.protocols:
            groups = [g for g in self.of(protocol, open=True) if g.measured]
            if groups:
                out.append(max(groups, key=lambda g: (g.rate or 0.0, -g.replicas)))
        return out

    @property
    def cells(self) -> list[Cell]:
        return [c for g in (*self.groups, *self.lessons) for c in g.cells]


def _group(key: tuple[Any, ...], members: list[Cell]) -> Group:
    protocol, replicas, balancer, users, rate, batch, payload, model, _driver = key
    ordered = tuple(sorted(members, key=lambda c: c["repeat"]))
    return Group(protocol, replicas, balancer, users, rate, batch, payload, ordered, model)


def build(documents: Sequence[dict[str, Any]]) -> Report:
    """Cells of several runs with the same configuration count as repeats of each other."""
    every = [c for d in documents for c in d["cells"]]
    cells = [c for c in every if c.get("driver", "locust") == "locust"]
    native = [c for c in every if c.get("driver", "locust") == "native"]
    groups = tuple(_group(key, members) for key, members in group_repeats(cells).items())
    order: dict[str, int] = {p: i for i, p in enumerate(PROTOCOLS)}
    groups = tuple(
        sorted(
            groups,
            key=lambda g: (
                order.get(g.protocol, len(order)),
                g.protocol,
                g.replicas,
                g.balancer,
                g.rate is not None,
                g.users,
                g.rate or 0.0,
                g.batch,
                g.payload,
            ),
        )
    )
    runs = tuple({k: v for k, v in d.items() if k != "cells"} for d in documents)
    lessons = tuple(g for g in groups if g.capacity_limited)
    return Report(runs=runs, groups=tuple(g for g in groups if not g.capacity_limited),
                  lessons=lessons, native=tuple(_group(key, members) for key, members
                                                in group_repeats(native).items()))  # fmt: skip


def load(paths: Sequence[Path]) -> Report:
    return build([load_run(p) for p in paths])
