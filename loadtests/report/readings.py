"""The one-paragraph reading under each chart, computed from the run's numbers.

Every sentence is chosen by comparing measurements (which protocol is cheapest, where
throughput stopped growing, how far the corrected tail lies from the uncorrected one) and
filled with them; the words come from the locale's catalogue.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.report.build import Group, Report
from loadtests.report.i18n import Locale
from protobench.protocols import Transport, with_transport

SATURATED_GAIN = 0.15  # a load step that adds less throughput than this ...
SATURATED_LATENCY = 0.30  # ... while p99 grows more than this is past the knee
AGREE = 1.10  # corrected/uncorrected p99 below this: the schedule was kept
UNEVEN = 1.25  # busiest replica's share over the even share above this is uneven
L4_BALANCERS = ("reuseport",)
GAP_KEYS = {"p50": "p50", "p90": "p90", "p99": "p99", "p999": "p99.9"}


def _ok(value: float) -> bool:
    return not math.isnan(value)


def _join(parts: Sequence[str]) -> str:
    return " ".join(p for p in parts if p)


def flag_note(groups: Sequence[Group], loc: Locale) -> str:
    bound = sorted({g.protocol for g in groups if "generator-bound" in g.flags})
    unstable = sorted({g.protocol for g in groups if "unstable" in g.flags})
    return _join(
        [
            loc.t("read.generator_bound", protocols=", ".join(bound)) if bound else "",
            loc.t("read.unstable", protocols=", ".join(unstable)) if unstable else "",
        ]
    )


def us_per_prediction(group: Group) -> float:
    return group.cpu("server_us_per_request") / max(group.batch, 1)


@dataclass(frozen=True)
class ScalingLine:
    name: str
    groups: list[Group]

    @property
    def efficiency(self) -> float:
        """Throughput at the most replicas over that many times the single-replica one."""
        first, last = self.groups[0], self.groups[-1]
        ideal = first.rps.median * last.replicas / max(first.replicas, 1)
        return last.rps.median / ideal if ideal > 0 else math.nan


def usable_cores(report: Report) -> int:
    counts = [
        len(r["manifest"].get("usable_cpus") or []) or r["manifest"].get("cpu_count") or 0
        for r in report.runs
    ]
    return min(counts, default=0)


def scaling(lines: Sequence[ScalingLine], report: Report, loc: Locale) -> str:
    parts = [
        loc.t(
            "read.scaling.line",
            name=line.name,
            n=line.groups[-1].replicas,
            rps_n=loc.num(line.groups[-1].rps.median),
            rps_1=loc.num(line.groups[0].rps.median),
            efficiency=loc.pct(line.efficiency),
        )
        for line in lines
    ]
    text = [loc.t("read.scaling.intro"), "; ".join(parts) + "."]
    ranked = sorted((line for line in lines if _ok(line.efficiency)), key=lambda x: x.efficiency)
    if len(ranked) >= 2:
        text.append(loc.t("read.scaling.rank", best=ranked[-1].name, worst=ranked[0].name))
    most = max(line.groups[-1].replicas for line in lines)
    cores = usable_cores(report)
    waits = all(g.capacity_limited for line in lines for g in line.groups)  # no CPU to share
    if cores and cores <= most and not waits:
        text.append(loc.t("read.scaling.cores", cores=cores, n=most))
    text.append(flag_note([g for line in lines for g in line.groups], loc))
    return _join(text)


def percentiles(refs: Sequence[Group], loc: Locale) -> str:
    refs = [g for g in refs if g.measured]
    if not refs:
        return loc.t("read.none")
    fastest = min(refs, key=lambda g: g.latency("p50"))
    tails = sorted(refs, key=lambda g: g.latency("p999") / max(g.latency("p50"), 1e-9))
    text = [
        loc.t(
            "read.percentiles.median",
            protocol=fastest.protocol,
            p50=loc.auto(fastest.latency("p50")),
            load=load_label(fastest, loc),
        ),
        "; ".join(
            loc.t(
                "read.percentiles.line",
                protocol=g.protocol,
                p50=loc.auto(g.latency("p50")),
                p99=loc.auto(g.latency("p99")),
                p999=loc.auto(g.latency("p999")),
                mean=loc.auto(g.latency("mean")),
            )
            for g in refs
        )
        + ".",
    ]
    worst = tails[-1]
    text.append(
        loc.t(
            "read.percentiles.tail",
            protocol=worst.protocol,
            ratio=loc.ratio(worst.latency("p999") / worst.latency("p50")),
        )
    )
    thin = [g for g in refs if g.requests < 1000]
    if thin:
        text.append(
            loc.t(
                "read.percentiles.thin",
                protocols=", ".join(g.protocol for g in thin),
                n=loc.num(min(g.requests for g in thin)),
            )
        )
    text.append(flag_note(refs, loc))
    return _join(text)


def load_label(group: Group, loc: Locale) -> str:
    if group.rate is not None:
        return loc.t("load.open", rate=loc.num(group.rate))
    return loc.t("load.closed", users=loc.num(group.users))


def knee(sweeps: dict[str, list[Group]], loc: Locale) -> str:
    lines, saturated, growing = [], [], []
    for protocol, groups in sweeps.items():
        before, after = groups[-2], groups[-1]
        gain = after.rps.median / before.rps.median - 1 if before.rps.median else math.nan
        latency = after.latency("p99") / before.latency("p99") - 1
        lines.append(
            loc.t(
                "read.knee.line",
                protocol=protocol,
                before=load_label(before, loc),
                after=load_label(after, loc),
                gain=_signed_pct(gain, loc),
                latency=_signed_pct(latency, loc),
            )
        )
        if gain < SATURATED_GAIN and latency > SATURATED_LATENCY:
            saturated.append(protocol)
        elif gain >= SATURATED_GAIN:
            growing.append(protocol)
    text = ["; ".join(lines) + "."]
    if saturated:
        text.append(loc.t("read.knee.saturated", protocols=", ".join(saturated)))
    if growing:
        text.append(loc.t("read.knee.growing", protocols=", ".join(growing)))
    text.append(flag_note([g for groups in sweeps.values() for g in groups], loc))
    return _join(text)


def _signed_pct(share: float, loc: Locale) -> str:
    if not _ok(share):
        return "–"
    return ("+" if share >= 0 else "−") + loc.pct(abs(share))


def wire(refs: Sequence[Group], loc: Locale) -> str:
    def call(g: Group) -> float:
        return g.wire("request")["total"] + g.wire("response")["total"]

    def overhead(g: Group) -> float:
        body = g.wire("request")["body"] + g.wire("response")["body"]
        return 1.0 - body / call(g) if call(g) else math.nan

    small, large = min(refs, key=call), max(refs, key=call)
    text = []
    if small is not large:
        text.append(
            loc.t(
                "read.wire.totals",
                small=small.protocol,
                small_bytes=loc.num(call(small)),
                large=large.protocol,
                large_bytes=loc.num(call(large)),
                ratio=loc.ratio(call(large) / call(small)),
            )
        )
    heavy = max(refs, key=overhead)
    text.append(
        loc.t("read.wire.overhead", protocol=heavy.protocol, share=loc.pct(overhead(heavy)))
    )
    bodies = sorted(refs, key=lambda g: g.wire("request")["body"])
    if len(bodies) >= 2:
        text.append(
            loc.t(
                "read.wire.body",
                small=bodies[0].protocol,
                small_bytes=loc.num(bodies[0].wire("request")["body"]),
                large=bodies[-1].protocol,
                large_bytes=loc.num(bodies[-1].wire("request")["body"]),
            )
        )
    if any(g.wire("request")["framing"] > 0 for g in refs):
        text.append(loc.t("read.wire.framing"))
    return _join(text)


def cpu(refs: Sequence[Group], loc: Locale) -> str:
    measured = [g for g in refs if _ok(g.cpu("server_us_per_request")) and g.rps.median > 0]
    if not measured:
        return loc.t("read.none")
    cheap = min(measured, key=lambda g: g.cpu("server_us_per_request"))
    dear = max(measured, key=lambda g: g.cpu("server_us_per_request"))
    text = [
        loc.t(
            "read.cpu.server",
            cheap=cheap.protocol,
            cheap_us=loc.num(cheap.cpu("server_us_per_request")),
            dear=dear.protocol,
            dear_us=loc.num(dear.cpu("server_us_per_request")),
            ratio=loc.ratio(dear.cpu("server_us_per_request") / cheap.cpu("server_us_per_request")),
        )
    ]
    heavier = [
        g for g in measured if g.cpu("generator_us_per_request") > g.cpu("server_us_per_request")
    ]
    if heavier:
        text.append(
            loc.t("read.cpu.client_heavier", protocols=", ".join(g.protocol for g in heavier))
        )
    else:
        text.append(loc.t("read.cpu.server_heavier"))
    text.append(flag_note(measured, loc))
    return _join(text)


def spread_label(group: Group, loc: Locale) -> str:
    layer = loc.t(f"balancer.{group.balancer}") if loc.has(f"balancer.{group.balancer}") else ""
    return f"{group.protocol} ×{group.replicas} · {group.balancer}{f' ({layer})' if layer else ''}"


def _busiest(group: Group) -> float:
    return max(group.replica_shares.values(), default=math.nan)


def spread(groups: Sequence[Group], loc: Locale) -> str:
    def unevenness(g: Group) -> float:
        return _busiest(g) * g.replicas

    worst, best = max(groups, key=unevenness), min(groups, key=unevenness)
    text = [
        loc.t(
            "read.spread.extremes",
            worst=spread_label(worst, loc),
            worst_share=loc.pct(_busiest(worst)),
            even=loc.pct(1 / worst.replicas),
            best=spread_label(best, loc),
            best_share=loc.pct(_busiest(best)),
        )
    ]
    h2c = set(with_transport(Transport.H2C))  # gRPC-borne: one long-lived HTTP/2 connection
    grpc_l4 = [g for g in groups if g.protocol in h2c and g.balancer in L4_BALANCERS]
    for g in grpc_l4:
        key = "read.spread.grpc_l4_uneven" if unevenness(g) > UNEVEN else "read.spread.grpc_l4_even"
        text.append(
            loc.t(key, balancer=g.balancer, users=loc.num(g.users), share=loc.pct(_busiest(g)))
        )
    grpc_l7 = [g for g in groups if g.protocol in h2c and g.balancer not in L4_BALANCERS]
    if grpc_l7:
        shares = ", ".join(f"{g.balancer} {loc.pct(_busiest(g))}" for g in grpc_l7)
        text.append(loc.t("read.spread.grpc_l7", shares=shares))
    else:
        text.append(loc.t("read.spread.try_l7"))
    costs = [
        loc.t(
            "read.spread.cost_item",
            label=spread_label(g, loc),
            us=loc.num(g.cpu("balancer_us_per_request")),
            server=loc.num(g.cpu("server_us_per_request")),
        )
        for g in groups
        if g.cpu("balancer_us_per_request") > 0
    ]
    if costs:
        text.append(loc.t("read.spread.balancer_cost", costs="; ".join(costs)))
    return _join(text)


def widest_gap(group: Group) -> tuple[str, float, float]:
    """The percentile where corrected and uncorrected latency differ most, and both values."""
    gaps = [(key, group.latency(key), group.latency(key, corrected=True)) for key in GAP_KEYS]
    return max(gaps, key=lambda gap: gap[2] / gap[1] if gap[1] > 0 else 0.0)


def corrected(groups: Sequence[Group], loc: Locale) -> str:
    text, worst = [], 1.0
    for g in groups:
        key, raw, fixed = widest_gap(g)
        ratio = fixed / raw if raw > 0 else math.nan
        worst = max(worst, ratio) if _ok(ratio) else worst
        text.append(
            loc.t(
                "read.corrected.line",
                protocol=g.protocol,
                rate=loc.num(g.rate),
                achieved=loc.num(g.rps.median),
                percentile=GAP_KEYS[key],
                raw=loc.auto(raw),
                fixed=loc.auto(fixed),
                ratio=loc.ratio(ratio),
            )
        )
        if g.rate and g.rps.median < 0.95 * g.rate:
            text.append(
                loc.t(
                    "read.corrected.behind",
                    protocol=g.protocol,
                    share=loc.pct(g.rps.median / g.rate),
                )
            )
    text.append(loc.t("read.corrected.agree" if worst < AGREE else "read.corrected.hidden"))
    return _join(text)


def batch(sweeps: dict[str, list[Group]], loc: Locale) -> str:
    text = []
    for protocol, groups in sweeps.items():
        small, large = groups[0], groups[-1]
        before, after = us_per_prediction(small), us_per_prediction(large)
        text.append(
            loc.t(
                "read.batch.line",
                protocol=protocol,
                small=loc.num(small.batch),
                large=loc.num(large.batch),
                before=loc.auto(before),
                after=loc.auto(after),
                ratio=loc.ratio(before / after) if after > 0 else "–",
                predictions=loc.num(large.predictions_per_s),
            )
        )
    text.append(loc.t("read.batch.why"))
    return _join(text)


def breakdown(data: dict[str, dict[str, dict[str, float]]], side: str, loc: Locale) -> str:
    """Per protocol: the CPU of one call, and the shares of the floor and (server) the model."""
    parts = []
    for protocol, sides in data.items():
        stages = sides[side]
        total = max(stages["total"], 1e-9)
        key = "read.breakdown.server" if side == "server" else "read.breakdown.client"
        parts.append(
            loc.t(
                key,
                protocol=protocol,
                total=loc.num(stages["total"]),
                floor=loc.pct(stages["floor"] / total),
                model=loc.pct(stages.get("model", 0.0) / total),
                codec=loc.pct((stages["encode"] + stages["decode"]) / total),
            )
        )
    return "; ".join(parts) + "."
