"""The table printed at the end of a bench run: one row per protocol x replicas x load."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table

from loadtests.stats import confidence_interval


def server_model(cell: dict[str, Any]) -> tuple[float, ...]:
    """How the replicas' model behaved: delay, workers, service and CPU time, CPU quota.
    Cells with different models are never repeats of each other."""
    quota = (cell.get("cpu_quota") or {}).get("cpus_per_replica", 0.0)
    return (cell.get("model_delay_ms", 0.0), cell.get("model_workers", 0),
            cell.get("model_service_ms", 0.0), cell.get("model_cpu_ms", 0.0), quota)  # fmt: skip


def group_repeats(cells: list[dict[str, Any]]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Cells that differ only by their repeat index, together."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for cell in cells:
        key = (cell["protocol"], cell["replicas"], cell["balancer"], cell["users"], cell["rate"],
               cell["batch"], cell["payload"], server_model(cell),
               cell.get("driver", "locust"))  # fmt: skip
        groups[key].append(cell)
    return groups


def _capacity(group: list[dict[str, Any]]) -> str:
    """Requests per second one server core could answer (1 ÷ server CPU s per request), with
    the half-width of its 95 % interval over repeats."""
    capacity = confidence_interval([c["cpu"].get("capacity_per_core", math.nan) for c in group])
    ci = f" ±{(capacity.high - capacity.low) / 2:,.0f}" if capacity.n > 1 else ""
    return f"{capacity.median:,.0f}{ci}"


def print_summary(document: dict[str, Any], console: Console) -> None:
    table = Table(title=f"protobench run {document['run_id']}")
    for column in ("protocol", "replicas", "load", "batch", "req/s", "p50 ms", "p99 ms",
                   "p99.9 ms", "errors", "B/req", "B/resp", "server µs/req", "gen ÷ server",
                   "capacity/core", "flags"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("protocol", "flags") else "right")
    for (protocol, replicas, balancer, users, rate, batch, *_, driver), group in group_repeats(
        document["cells"]
    ).items():
        rps = confidence_interval([c["requests_per_s"] for c in group])
        first = group[0]
        ci = f" ±{(rps.high - rps.low) / 2:,.0f}" if rps.n > 1 else ""
        load = f"{rate:g}/s open" if rate is not None else f"{users} users"
        flags = sorted({f for c in group for f in c["flags"]})
        name = protocol if driver == "locust" else f"{protocol} ({driver})"
        table.add_row(
            name, f"{replicas} ({balancer})", load, str(batch), f"{rps.median:,.0f}{ci}",
            f"{first['latency_ms']['p50']:.2f}", f"{first['latency_ms']['p99']:.2f}",
            f"{first['latency_ms']['p999']:.2f}",
            str(sum(sum(c["errors"].values()) for c in group)),
            f"{first['wire_bytes']['request']['total']:.0f}",
            f"{first['wire_bytes']['response']['total']:.0f}",
            _unknown_as_dash(first["cpu"]["server_us_per_request"]),
            _unknown_as_dash(first["cpu"].get("generator_to_server", math.nan), 2),
            _capacity(group),
            ", ".join(flags) or "-",
        )  # fmt: skip
    console.print(table)
    for cell in document["cells"]:
        tried = cell.get("generator_escalations") or []
        if tried:
            steps = ", ".join(f"{t['processes']} ({100 * t['busiest_share']:.0f} % of a core)"
                              for t in tried)  # fmt: skip
            final = cell["pinning"]["generator_processes"]
            console.print(f"{cell['cell_id']}: generator-bound with {steps} Locust process(es); "
                          f"measured again with {final}")  # fmt: skip


def _unknown_as_dash(value: float | None, digits: int = 0) -> str:
    """A measure bench could not take (server CPU of an external target) is not a zero."""
    return "-" if value is None else f"{value:.{digits}f}"
