"""Service-level objectives for CI: ``--slo 'p99<50ms,errors<0.1%,rps>1000'`` judges each cell.

Each objective is ``METRIC OP VALUE``:
- latency ``p50``, ``p90``, ``p99``, ``p99.9``, ``max``, ``mean``: a duration (``50ms``,
  ``0.05s``, ``500us``; a bare number is milliseconds). Closed-model cells are judged on the
  latency from the send time; open-model cells (``--rate``) on the latency from the intended
  send time, the one that does not hide a stall.
- ``errors``: failed requests over all requests, as ``0.1%`` or a fraction (``0.001``).
- ``rps``: successful requests per second; ``pps``: predictions per second.
OP is ``<``, ``<=``, ``>`` or ``>=``. A cell passes when every objective holds; a cell that
measured nothing (NaN) fails. The verdicts go into results.json (``slo`` at the top, one per
cell, and the flags ``slo-pass``/``slo-fail``), so the report shows them.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LATENCIES = {"p50": "p50", "p90": "p90", "p99": "p99", "p99.9": "p999", "p999": "p999",
             "max": "max", "mean": "mean"}  # fmt: skip
RATES = {"rps": "requests_per_s", "pps": "predictions_per_s"}
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
TIME_UNITS_MS = {"ms": 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001, "": 1.0}
_TERM = re.compile(
    r"^\s*(?P<metric>[a-z0-9.]+)\s*(?P<op><=|>=|<|>)\s*(?P<number>[0-9]*\.?[0-9]+(?:e-?[0-9]+)?)"
    r"\s*(?P<unit>ms|s|us|µs|%)?\s*$"
)
PASS, FAIL = "slo-pass", "slo-fail"


@dataclass(frozen=True)
class Objective:
    text: str  # as the user wrote it, e.g. "p99<50ms"
    metric: str  # "p99", "errors", "rps", ...
    op: str
    threshold: float  # ms for latencies, a fraction for errors, per second for rates

    def measure(self, cell: dict[str, Any]) -> float:
        if self.metric in LATENCIES:
            open_model = cell.get("load_model") == "open"
            latency = cell["latency_corrected_ms" if open_model else "latency_ms"]
            return float(latency[LATENCIES[self.metric]])
        if self.metric == "errors":
            requests = cell.get("requests") or 0
            failed = sum((cell.get("errors") or {}).values())
            return failed / requests if requests else math.nan
        return float(cell[RATES[self.metric]])

    def holds(self, value: float) -> bool:
        return not math.isnan(value) and OPERATORS[self.op](value, self.threshold)


def _objective(term: str) -> Objective:
    match = _TERM.match(term)
    if match is None:
        raise ValueError(
            f"{term.strip()!r} is not METRIC<VALUE or METRIC>VALUE "
            "(e.g. p99<50ms, errors<0.1%, rps>1000)"
        )
    metric, op, number, unit = match["metric"], match["op"], float(match["number"]), match["unit"]
    unit = unit or ""
    if metric in LATENCIES:
        if unit not in TIME_UNITS_MS:
            raise ValueError(f"{term.strip()!r}: a latency takes ms, s or us")
        return Objective(term.strip(), metric, op, number * TIME_UNITS_MS[unit])
    if metric == "errors":
        if unit not in ("%", ""):
            raise ValueError(f"{term.strip()!r}: errors take a percentage or a fraction")
        return Objective(term.strip(), metric, op, number / 100.0 if unit == "%" else number)
    if metric in RATES:
        if unit:
            raise ValueError(f"{term.strip()!r}: {metric} is a plain number per second")
        return Objective(term.strip(), metric, op, number)
    known = ", ".join([*LATENCIES, "errors", *RATES])
    raise ValueError(f"{term.strip()!r}: unknown metric {metric!r}; known: {known}")


def parse(spec: str) -> tuple[Objective, ...]:
    """``'p99<50ms,errors<0.1%'`` -> objectives; ``ValueError`` says which term is wrong."""
    terms = [term for term in spec.split(",") if term.strip()]
    if not terms:
        raise ValueError("the SLO is empty; e.g. 'p99<50ms,errors<0.1%,rps>1000'")
    return tuple(_objective(term) for term in terms)


def judge_cell(cell: dict[str, Any], objectives: Sequence[Objective]) -> dict[str, Any]:
    checks = []
    for objective in objectives:
        value = objective.measure(cell)
        checks.append({
            "objective": objective.text,
            "measured": None if math.isnan(value) else value,
            "passed": objective.holds(value),
        })  # fmt: skip
    return {"passed": all(c["passed"] for c in checks), "checks": checks}


def judge_run(document: dict[str, Any], spec: str) -> bool:
    """Judge every cell of a run document in place; True when all passed."""
    objectives = parse(spec)
    for cell in document["cells"]:
        verdict = judge_cell(cell, objectives)
        cell["slo"] = verdict
        flags = [f for f in cell.get("flags", []) if f not in (PASS, FAIL)]
        cell["flags"] = [*flags, PASS if verdict["passed"] else FAIL]
    passed = all(cell["slo"]["passed"] for cell in document["cells"])
    failed = [cell["cell_id"] for cell in document["cells"] if not cell["slo"]["passed"]]
    document["slo"] = {"spec": spec, "passed": passed, "failed_cells": failed}
    return passed


def record(results_json: Path, document: dict[str, Any]) -> None:
    """Write the judged document back where the report reads it."""
    results_json.write_text(json.dumps(document, indent=2, sort_keys=False))


def shown(value: float | None, objective: str) -> str:
    """A measured value in the objective's own unit, for the terminal table."""
    if value is None:
        return "–"
    metric = _objective(objective).metric
    if metric in LATENCIES:
        return f"{value:.3g} ms"
    if metric == "errors":
        return f"{value * 100:.3g} %"
    return f"{value:,.0f}/s"


def verdict_table(document: dict[str, Any]) -> Any:
    """A rich table: one row per cell, one column per objective, pass or FAIL."""
    from rich.table import Table

    spec = document["slo"]["spec"]
    table = Table(title=f"SLO {spec}")
    table.add_column("cell")
    objectives = [check["objective"] for check in document["cells"][0]["slo"]["checks"]]
    for objective in objectives:
        table.add_column(objective, justify="right")
    table.add_column("verdict")
    for cell in document["cells"]:
        verdict = cell["slo"]
        table.add_row(
            cell["cell_id"],
            *(
                shown(c["measured"], c["objective"]) + ("" if c["passed"] else " ✗")
                for c in verdict["checks"]
            ),
            "pass" if verdict["passed"] else "[bold red]FAIL[/]",
        )
    return table
