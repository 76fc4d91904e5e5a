"""Everything the page and the Markdown summary show, as plain values already in the locale."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from loadtests.report import coldstart
from loadtests.report.build import Group, Report
from loadtests.report.figures import Figure, figures
from loadtests.report.flags import Flag, flag
from loadtests.report.i18n import Locale
from loadtests.report.lecture import LectureTable, lecture_table
from loadtests.report.lecture_chart import lecture_cost
from loadtests.report.notes import Note, glossary, notes
from loadtests.report.readings import load_label
from loadtests.stats import Interval
from loadtests.workload import PAYLOADS

# Which flag qualifies which number: it is shown next to that number, not only in a column.
FLAG_PLACES = {
    "generator-bound": "rps",
    "cpu-contended": "rps",
    "unstable": "rps",
    "errors": "errors",
    "no-successful-requests": "latency",
    "slo-pass": "row",  # --slo: the verdict is the whole configuration's
    "slo-fail": "row",
}


@dataclass(frozen=True)
class Row:
    protocol: str
    replicas: str
    load: str
    batch: str
    rps: str
    rps_ci: str  # "" for one repeat
    p50: str
    p99: str
    p999: str
    errors: str
    error_codes: str
    request_bytes: str
    response_bytes: str
    server_us: str
    capacity: str  # req/s per server core, 1 ÷ server CPU s per request
    capacity_ci: str
    generator_ratio: str  # generator CPU ÷ server CPU
    generator_share: str
    flags: tuple[Flag, ...]

    def flags_at(self, place: str) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if FLAG_PLACES.get(f.key) == place)


GENERATOR_HEAVY_RATIO = 0.5  # the goal: the generator spends at most half the server's CPU


@dataclass(frozen=True)
class CrossCheck:
    """One configuration driven by Locust and by wrk / h2load."""

    protocol: str
    load: str
    locust_rps: str
    native_rps: str
    difference: str  # native ÷ Locust - 1, as a percentage
    generator_ratio: str  # Locust's generator CPU ÷ server CPU


def cross_checks(report: Report, loc: Locale) -> list[CrossCheck]:
    """Where the Locust cell is not generator-bound: its throughput beside the native one."""
    out = []
    for locust, native in report.cross_checks():
        if "generator-bound" in locust.flags:
            continue
        difference = native.rps.median / locust.rps.median - 1.0
        out.append(CrossCheck(locust.protocol, load_label(locust, loc), loc.num(locust.rps.median),
                              loc.num(native.rps.median), f"{'+' if difference >= 0 else ''}"
                              f"{loc.pct(difference)}", loc.num(locust.cpu("generator_to_server"),
                                                                2)))  # fmt: skip
    return out


@dataclass(frozen=True)
class Page:
    lang: str
    title: str
    subtitle: str
    caveats: list[str]
    lecture: LectureTable
    rows: list[Row]
    cross_checks: list[CrossCheck]
    figures: list[Figure]
    notes: list[Note]
    glossary: list[tuple[str, str]]
    manifests: list[list[tuple[str, str]]]
    t: Any  # the locale's message lookup, for the template's fixed words


def _interval(interval: Interval, loc: Locale) -> str:
    # a rate cannot be negative, whatever a t-interval over two noisy repeats says
    if interval.n < 2:
        return ""
    low, high = loc.num(max(interval.low, 0.0)), loc.num(interval.high)
    return str(loc.t("table.ci", low=low, high=high, n=interval.n))


def row(g: Group, loc: Locale) -> Row:
    rps = g.rps
    ci = _interval(rps, loc)
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(g.error_codes.items()))
    replicas = f"{g.replicas}" + (f" · {g.balancer}" if g.balancer != "none" else "")
    if g.capacity_limited:
        replicas += f" · {loc.t('row.lesson', per=loc.num(g.per_replica_capacity))}"
    return Row(
        protocol=g.protocol,
        replicas=replicas,
        load=load_label(g, loc) + (f" · {g.payload}" if g.payload != PAYLOADS[0] else ""),
        batch=loc.num(g.batch),
        rps=loc.num(rps.median),
        rps_ci=ci,
        p50=loc.auto(g.latency("p50")),
        p99=loc.auto(g.latency("p99")),
        p999=loc.auto(g.latency("p999")),
        errors=loc.num(g.errors),
        error_codes=codes,
        request_bytes=loc.num(g.wire("request")["total"]),
        response_bytes=loc.num(g.wire("response")["total"]),
        server_us=loc.num(g.cpu("server_us_per_request")),
        capacity=loc.num(g.capacity.median),
        capacity_ci=_interval(g.capacity, loc),
        generator_ratio=loc.num(g.cpu("generator_to_server"), 2),
        generator_share=loc.pct(g.generator_share),
        flags=tuple(flag(f, loc) for f in g.flags),
    )


def _list(values: Any) -> str:
    return ", ".join(str(v) for v in values) if values else "–"


def _pinning(report: Report, loc: Locale) -> str:
    seen = []
    for cell in report.cells:
        pin = cell.get("pinning") or {}
        text = (
            loc.t(
                "manifest.pinned",
                server=_list(pin.get("server_cpus")),
                generator=_list(pin.get("generator_cpus")),
                processes=pin.get("generator_processes", "–"),
            )
            if pin.get("pinned")
            else loc.t("manifest.unpinned")
        )
        replicas = f"×{cell['replicas']}: {text}"
        if replicas not in seen:
            seen.append(replicas)
    return "; ".join(seen)


def _quota(run: dict[str, Any], report: Report) -> str:
    """Each replica's CPU quota (the run's setting) and how the cells recorded it applied."""
    cpus = run.get("config", {}).get("replica_cpus")
    seen = {
        f"{q['cpus_per_replica']:g} CPU · {q['method']} ({q['quota_us']}/{q['period_us']} µs)"
        for c in report.cells
        if (q := c.get("cpu_quota")) and q["cpus_per_replica"] == cpus
    }
    return "; ".join(sorted(seen)) or "–"


def manifest(run: dict[str, Any], report: Report, loc: Locale) -> list[tuple[str, str]]:
    m, config = run.get("manifest", {}), run.get("config", {})
    libraries = ", ".join(f"{k} {v}" for k, v in (m.get("libraries") or {}).items() if v)
    balancers = ", ".join(v for v in (m.get("balancers") or {}).values() if v)
    settings = ", ".join(
        f"{k}={config[k]}"
        for k in (
            "duration_s",
            "warmup_s",
            "repeat",
            "payload",
            "model_delay_ms",
            "model_workers",
            "model_service_ms",
            "model_cpu_ms",
            "replica_cpus",
            "pin",
            "calibration_calls",
        )
        if k in config
    )
    items = [
        ("run_id", str(run.get("run_id", "–"))),
        ("command", str(m.get("command", "–"))),
        ("started_at", str(m.get("started_at", "–"))),
        (
            "machine",
            f"{m.get('cpu_model', '–')} · {m.get('cpu_count', '–')} CPU · "
            f"{loc.t('manifest.usable')} {_list(m.get('usable_cpus'))}",
        ),
        ("platform", f"{m.get('platform', '–')} · Python {m.get('python', '–')}"),
        ("pinning", _pinning(report, loc)),
        ("quota", _quota(run, report)),
        ("config", settings or "–"),
        ("libraries", libraries or "–"),
        ("balancers", balancers or "–"),
    ]
    return [(loc.t(f"manifest.{key}"), value) for key, value in items]


def _caveats(report: Report, loc: Locale) -> list[str]:
    out = []
    cores = min((r["manifest"].get("cpu_count") or 0 for r in report.runs), default=0)
    if 0 < cores <= 4:
        out.append(loc.t("caveat.cores", cores=cores))
    durations = [float(c.get("duration_s", math.nan)) for c in report.cells]
    shortest = min((d for d in durations if d == d), default=math.nan)
    if shortest < 10:
        out.append(
            loc.t("caveat.short", seconds=loc.num(shortest, 0 if shortest.is_integer() else 1))
        )
    heavy = sorted({g.protocol for g in report.groups
                    if g.cpu("generator_to_server") > GENERATOR_HEAVY_RATIO})  # fmt: skip
    if heavy:
        out.append(loc.t("caveat.generator_heavy", protocols=", ".join(heavy)))
    judged = [c for c in report.cells if "slo" in c]
    for spec in dict.fromkeys(str(r["slo"]["spec"]) for r in report.runs if r.get("slo")):
        failed = sum(1 for c in judged if not c["slo"]["passed"])
        out.append(loc.t("caveat.slo", spec=spec, failed=failed, total=len(judged)))
    bound = sum(1 for g in report.groups if "generator-bound" in g.flags)
    if bound:
        out.append(loc.t("caveat.generator", n=bound, total=len(report.groups)))
    return out


def build_page(report: Report, loc: Locale) -> Page:
    run_ids = ", ".join(str(r.get("run_id", "?")) for r in report.runs)
    started = min(
        (str(r.get("manifest", {}).get("started_at", "")) for r in report.runs), default=""
    )
    return Page(
        lang=loc.lang,
        title=loc.t("page.title"),
        subtitle=loc.t(
            "page.subtitle",
            runs=run_ids,
            started=started,
            cells=len(report.cells),
            protocols=", ".join(report.protocols),
        ),
        caveats=_caveats(report, loc),
        lecture=lecture_table(report, loc),
        rows=[row(g, loc) for g in (*report.groups, *report.lessons)],
        cross_checks=cross_checks(report, loc),
        figures=[
            lecture_cost(report, loc),
            *figures(report, loc),
            coldstart.coldstart(report, loc),
        ],
        notes=[*notes(report, loc), coldstart.note(report, loc)],
        glossary=glossary(loc),
        manifests=[manifest(r, report, loc) for r in report.runs],
        t=loc.t,
    )
