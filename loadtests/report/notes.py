"""Teaching notes: the lecture's concepts, each followed by what *this* run says about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from loadtests.report.build import Group, Report
from loadtests.report.i18n import Locale
from loadtests.report.readings import GAP_KEYS, widest_gap
from protobench.protocols import specs

LITTLE_FULL = 0.95  # L/users above this for every protocol: the users only waited on servers
CALLS_PER_PAGE = 20  # a page or a pipeline that makes this many calls, for the p99 note


@dataclass(frozen=True)
class Note:
    key: str
    title: str
    text: str  # the concept, from the catalogue
    evidence: str  # what this run measured about it ("" when the run cannot say)


def _refs(report: Report) -> dict[str, Group]:
    return {p: g for p in report.protocols if (g := report.reference(p)) is not None}


def _call_bytes(g: Group, part: str) -> float:
    return g.wire("request")[part] + g.wire("response")[part]


def _http(report: Report, loc: Locale) -> str:
    refs = _refs(report)
    if "rest" not in refs or "grpc" not in refs:
        return ""
    rest, grpc = refs["rest"], refs["grpc"]
    return loc.t(
        "note.http.evidence",
        rest=loc.num(_call_bytes(rest, "headers")),
        grpc=loc.num(_call_bytes(grpc, "headers")),
        framing=loc.num(_call_bytes(grpc, "framing")),
    )


def _versus(report: Report, loc: Locale, other: str, key: str) -> str:
    """REST against ``other``: body bytes per call, server CPU per request, median latency."""
    refs = _refs(report)
    if "rest" not in refs or other not in refs:
        return ""
    rest, them = refs["rest"], refs[other]
    return loc.t(
        key,
        rest_body=loc.num(_call_bytes(rest, "body")),
        body=loc.num(_call_bytes(them, "body")),
        rest_us=loc.num(rest.cpu("server_us_per_request")),
        us=loc.num(them.cpu("server_us_per_request")),
        rest_p50=loc.auto(rest.latency("p50")),
        p50=loc.auto(them.latency("p50")),
    )


def _scaling(report: Report, loc: Locale) -> str:
    best = None
    for protocol in report.protocols:
        for groups in report.scaling(protocol).values():
            if len(groups) >= 2 and groups[0].rps.median > 0:
                gain = groups[-1].rps.median / groups[0].rps.median
                if best is None or gain > best[0]:
                    best = (gain, protocol, groups[-1].replicas)
    if best is None:
        return ""
    return loc.t("note.scaling.evidence", protocol=best[1], n=best[2], gain=loc.ratio(best[0]))


def _little(report: Report, loc: Locale) -> str:
    closed = [g for g in _refs(report).values() if not g.open and g.little == g.little]
    if not closed:
        return ""
    parts = [
        loc.t(
            "note.little.line",
            protocol=g.protocol,
            users=loc.num(g.users),
            rps=loc.num(g.rps.median),
            w=loc.auto(g.latency("mean")),
            l=loc.auto(g.little),
            share=loc.pct(g.little / g.users),
        )
        for g in closed
    ]
    short = min(g.little / g.users for g in closed) < LITTLE_FULL
    return "; ".join(parts) + ". " + loc.t("note.little.gap" if short else "note.little.full")


def _p99(report: Report, loc: Locale) -> str:
    refs = [g for g in _refs(report).values() if g.measured]
    if not refs:
        return ""
    g = max(refs, key=lambda g: g.latency("p99") / max(g.latency("mean"), 1e-9))
    return loc.t(
        "note.p99.evidence",
        protocol=g.protocol,
        mean=loc.auto(g.latency("mean")),
        p99=loc.auto(g.latency("p99")),
        calls=CALLS_PER_PAGE,
        chance=loc.pct(1 - 0.99**CALLS_PER_PAGE),
    )


def _omission(report: Report, loc: Locale) -> str:
    groups = report.open_groups()
    if not groups:
        return loc.t("note.omission.no_open")
    g, (key, raw, fixed) = max(
        ((g, widest_gap(g)) for g in groups), key=lambda item: item[1][2] / max(item[1][1], 1e-9)
    )
    return loc.t(
        "note.omission.evidence",
        protocol=g.protocol,
        rate=loc.num(g.rate),
        percentile=GAP_KEYS[key],
        raw=loc.auto(raw),
        fixed=loc.auto(fixed),
    )


def _breakdown(report: Report, loc: Locale) -> str:
    data = report.breakdown
    if not data:
        return ""
    server = {p: sides["server"] for p, sides in data.items()}
    cheap = min(server, key=lambda p: server[p]["total"])
    dear = max(server, key=lambda p: server[p]["total"])
    return loc.t(
        "note.breakdown.evidence",
        model=loc.num(server[cheap]["model"]),
        cheap=cheap,
        cheap_us=loc.num(server[cheap]["total"]),
        dear=dear,
        dear_us=loc.num(server[dear]["total"]),
        gap=loc.num(server[dear]["total"] - server[cheap]["total"]),
    )


def _versus_note(protocol: str, note: str) -> Callable[[Report, Locale], str]:
    return lambda r, loc: _versus(r, loc, protocol, f"note.{note}.evidence")


EVIDENCE: dict[str, Callable[[Report, Locale], str]] = {
    "http": _http,
    "breakdown": _breakdown,
    # each protocol's spec may name a note comparing it with REST (report.note)
    **{s.report.note: _versus_note(s.name, s.report.note) for s in specs() if s.report.note},
    "scaling": _scaling,
    "little": _little,
    "p99": _p99,
    "omission": _omission,
    "consume": lambda _r, _loc: "",  # a pointer to examples/clients/, nothing measured
    "fleet": lambda _r, _loc: "",  # what one machine cannot measure, by its nature
}
GLOSSARY = (
    "latency",
    "throughput",
    "percentile",
    "replica",
    "balancer",
    "l4l7",
    "http2",
    "protobuf",
    "closed",
    "open",
    "omission",
    "little",
    "generator",
    "batch",
    "ci",
)


def notes(report: Report, loc: Locale) -> list[Note]:
    return [
        Note(key, loc.t(f"note.{key}.title"), loc.t(f"note.{key}.text"), evidence(report, loc))
        for key, evidence in EVIDENCE.items()
    ]


def glossary(loc: Locale) -> list[tuple[str, str]]:
    return [(loc.t(f"glossary.{k}.term"), loc.t(f"glossary.{k}.text")) for k in GLOSSARY]
