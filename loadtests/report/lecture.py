"""The lecture's protocol table (Protocolo · Año · Tipo de formato · Característica más
importante) with the columns the report adds: transport, contract and streaming from each
protocol's spec, and what this run measured on it.

One row per registered protocol, in the lecture's order (by year; the protocols the lecture's
table does not list come after it). A protocol the run did not measure keeps its row and says
so in place of the numbers: nothing in this table is filled in by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.report.build import Group, Report
from loadtests.report.flags import Flag, flag
from loadtests.report.i18n import Locale
from loadtests.report.readings import load_label
from protobench.protocols import SPECS, ProtocolSpec


@dataclass(frozen=True)
class Measured:
    """The run's numbers for one protocol, at its reference configuration."""

    config: str
    rps: str
    p50: str
    p99: str
    request_bytes: str
    response_bytes: str
    generator_us: str
    server_us: str
    flags: tuple[Flag, ...]  # the configuration's flags (generator-bound, unstable, ...)


@dataclass(frozen=True)
class LectureRow:
    protocol: str  # the spec's label ("gRPC")
    name: str  # the registry name ("grpc"), with the payload when it has a row for each
    in_lecture: bool  # the lecture's table lists it
    year: str
    formats: str  # the lecture's "format type"
    feature: str
    payload: str  # the format on the wire here
    transport: str
    contract: str
    streaming: str
    measured: Measured | None
    absent: str  # why there are no numbers, when ``measured`` is None
    absent_short: str  # the same in two words, for a cell of a narrow table


@dataclass(frozen=True)
class LectureTable:
    rows: list[LectureRow]
    shared: str  # the configuration every measured row ran, said once above the table; ""
    mixed: str  # else a warning that the rows ran different configurations (a column each)

    @property
    def footnote(self) -> bool:
        """Some rows are not in the lecture's table and carry the marker."""
        return any(not r.in_lecture for r in self.rows)


def _measured(group: Group, loc: Locale) -> Measured:
    """A group's numbers as the table shows them (medians of its repeats)."""
    return Measured(
        config=loc.t(
            "lecture.config",
            replicas=loc.num(group.replicas)
            + (f" ({group.balancer})" if group.balancer != "none" else ""),
            load=load_label(group, loc),
            batch=loc.num(group.batch),
        ),
        rps=loc.num(group.rps.median),
        p50=loc.auto(group.latency("p50")),
        p99=loc.auto(group.latency("p99")),
        request_bytes=_bytes(group, "request", loc),
        response_bytes=_bytes(group, "response", loc),
        generator_us=loc.num(group.cpu("generator_us_per_request")),
        server_us=loc.num(group.cpu("server_us_per_request")),
        flags=tuple(flag(f, loc) for f in group.flags),
    )


def has_wire(group: Group) -> bool:
    """Every repeat counted its bytes (a cell that could not, e.g. a remote target, has none)."""
    return all("wire_bytes" in c for c in group.cells)


def _bytes(group: Group, direction: str, loc: Locale) -> str:
    return loc.num(group.wire(direction)["total"]) if has_wire(group) else "–"


def _same_but_payload(a: Group, b: Group) -> bool:
    fields = ("replicas", "balancer", "users", "rate", "batch", "model")
    return a.payload != b.payload and all(getattr(a, f) == getattr(b, f) for f in fields)


@dataclass(frozen=True)
class Entry:
    """One row of the table before formatting: a protocol and what the run measured on it."""

    name: str
    spec: ProtocolSpec | None
    group: Group | None  # None: not measured, or no successful request
    payload: str  # the payload, when the rows name theirs; else ""

    @property
    def label(self) -> str:
        label = self.spec.report.label if self.spec else self.name
        return label + (f" · {self.payload}" if self.payload else "")

    @property
    def in_lecture(self) -> bool:
        return (
            self.spec is not None and self.spec.traits is not None and self.spec.traits.in_lecture
        )

    def order(self) -> tuple[bool, str]:
        """The lecture lists its protocols by year; the others follow, in the registry's order
        (``sorted`` is stable)."""
        traits = self.spec.traits if self.spec else None
        return (not self.in_lecture, (traits.year or "") if traits and self.in_lecture else "")


def entries(report: Report) -> list[Entry]:
    """Every registered protocol (and any other the runs measured), one entry each, and one
    more per other payload it ran in its reference configuration (REST's ``iris-xml`` beside
    its JSON ``iris``). When the runs used several payloads, every entry names its own."""
    used = {g.payload for g in report.groups if g.measured}
    out = []
    for name in [*SPECS, *(p for p in report.protocols if p not in SPECS)]:
        spec, reference = SPECS.get(name), report.reference(name)
        if reference is None:
            out.append(Entry(name, spec, None, ""))
            continue
        others = [g for g in report.of(name) if g.measured and _same_but_payload(g, reference)]
        if not others and len(used) <= 1:
            out.append(Entry(name, spec, reference, ""))
        else:
            out += [Entry(name, spec, g, g.payload) for g in (reference, *others)]
    return sorted(out, key=Entry.order)


def _row(entry: Entry, report: Report, loc: Locale) -> LectureRow:
    undeclared = loc.t("lecture.undeclared")
    spec = entry.spec
    traits = spec.traits if spec is not None else None
    transport = loc.t(f"lecture.transport.{spec.transport.value}") if spec else undeclared
    if traits is None:
        year = formats = payload = feature = contract = streaming = undeclared
    else:
        year = traits.year or "–"
        payload = traits.payload
        formats = traits.formats.get(loc.lang, "–") if traits.formats else payload
        feature = traits.feature.get(loc.lang, "–")
        contract = traits.contract or loc.t("lecture.contract.none")
        streaming = loc.t(f"lecture.streaming.{traits.streaming.value}")
    absent = absent_short = ""
    if entry.group is None:
        if report.of(entry.name):
            key = "lecture.no_success"
        elif any(g.protocol == entry.name for g in report.lessons):
            key = "lecture.lessons_only"
        else:
            key = "lecture.not_measured"
        absent = loc.t(key, command=f"protobench bench --protocols {entry.name}")
        absent_short = loc.t(f"{key}.short")
    return LectureRow(
        protocol=entry.label,
        name=entry.name + (f"-{entry.payload}" if entry.payload else ""),
        in_lecture=entry.in_lecture,
        year=year,
        formats=formats,
        feature=feature,
        payload=payload,
        transport=transport,
        contract=contract,
        streaming=streaming,
        measured=_measured(entry.group, loc) if entry.group is not None else None,
        absent=absent,
        absent_short=absent_short,
    )


def lecture_table(report: Report, loc: Locale) -> LectureTable:
    rows = [_row(e, report, loc) for e in entries(report)]
    used = {g.payload for g in report.groups if g.measured}
    configs = list(dict.fromkeys(r.measured.config for r in rows if r.measured))
    if len(configs) > 1:
        return LectureTable(rows, "", loc.t("lecture.mixed", configs="; ".join(configs)))
    if not configs:
        return LectureTable(rows, "", "")
    config = configs[0] + (
        "" if len(used) > 1 else f" · {loc.t('lecture.payload', payload=used.pop())}"
    )
    return LectureTable(rows, loc.t("lecture.shared", config=config), "")
