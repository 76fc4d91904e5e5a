"""Expected against measured: what N replicas can serve at most, what they served, how well
adding replicas scaled, and which configurations this machine cannot honour.

Expected capacity of a cell, in requests per second (one request = one prediction job,
whatever its batch), is the smallest of the limits that apply:

- the capacity-limited model: N × K × 1000 / S (``--model-workers``, ``--model-service-ms``);
- a CPU quota: N × F ÷ the CPU seconds each request cost the replicas (``--replica-cpus``);
- the load itself: a closed model's U users can send at most U × 1000 / (S + delay) per
  second (each waits for its answer), an open model sends its rate.

Scaling efficiency at N is the measured throughput over N times the one-replica throughput
of the same protocol, load and payload in the same run (closed loads only: an open model's
throughput is its offered rate, whatever N).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

BELOW_EXPECTED = 0.9  # measured under this share of expected is flagged


@dataclass(frozen=True)
class Expected:
    requests_per_s: float
    bound_by: str  # which limit it is, as a formula a reader can check


def expected_capacity(cell: dict[str, Any]) -> Expected | None:
    """The smallest limit that applies to this cell; None when nothing bounds it by design."""
    n = cell["replicas"]
    workers, service_ms = cell.get("model_workers", 0), cell.get("model_service_ms", 0.0)
    delay_ms = cell.get("model_delay_ms", 0.0)
    limits: list[Expected] = []
    if workers and service_ms:
        limits.append(
            Expected(n * workers * 1000 / service_ms, f"{n}×{workers}×1000/{service_ms:g} ms")
        )
    quota = cell.get("cpu_quota")
    cpu_us = cell.get("cpu", {}).get("server_us_per_request", 0.0)
    if quota and cpu_us:
        cpus = quota["cpus_per_replica"]
        limits.append(Expected(n * cpus / (cpu_us / 1e6), f"{n}×{cpus:g} CPU ÷ {cpu_us:.0f} µs"))
    if not limits:
        return None
    if cell.get("rate") is not None:
        limits.append(Expected(cell["rate"], f"offered {cell['rate']:g}/s"))
    elif service_ms or delay_ms:
        users = cell["users"]
        limits.append(Expected(users * 1000 / (service_ms + delay_ms), f"{users} users"))
    return min(limits, key=lambda e: e.requests_per_s)


def cores_needed(replicas: int, replica_cpus: float | None, generator_cpus: int) -> float | None:
    """CPUs the quotas promise plus the generator's; None when no quota promises any."""
    if replica_cpus is None:
        return None
    return replicas * replica_cpus + generator_cpus


def overcommitted(replicas: int, replica_cpus: float | None, generator_cpus: int) -> bool:
    """The sum of the quotas and the generator's cores is more than this machine has."""
    needed = cores_needed(replicas, replica_cpus, generator_cpus)
    return needed is not None and needed > (os.cpu_count() or 1) + 1e-9


def _group_key(cell: dict[str, Any]) -> tuple[Any, ...]:
    return (cell["protocol"], cell["users"], cell["rate"], cell["batch"], cell["payload"],
            cell["repeat"])  # fmt: skip


@dataclass(frozen=True)
class ScalingRow:
    cell: dict[str, Any]
    expected: Expected | None
    measured: float
    efficiency: float | None  # measured / (N × one replica's), None without a 1-replica cell
    flags: tuple[str, ...]

    @property
    def ratio(self) -> float | None:
        if self.expected is None or not self.expected.requests_per_s:
            return None
        return self.measured / self.expected.requests_per_s


def scaling_rows(document: dict[str, Any]) -> list[ScalingRow]:
    """One row per cell, with its expected capacity, efficiency and honesty flags."""
    single = {
        _group_key(cell): cell["requests_per_s"]
        for cell in document["cells"]
        if cell["replicas"] == 1
    }
    replica_cpus = document["config"].get("replica_cpus")
    rows = []
    for cell in document["cells"]:
        n, measured = cell["replicas"], cell["requests_per_s"]
        one = single.get(_group_key(cell))
        expected = expected_capacity(cell)
        flags = []
        generator_cpus = len(cell["pinning"].get("generator_cpus") or []) or 1
        if overcommitted(n, replica_cpus, generator_cpus):
            flags.append("overcommitted")
        if expected and measured < BELOW_EXPECTED * expected.requests_per_s:
            flags.append("below-expected")
        # an open model serves what it offers: only closed loads say how far N replicas went
        efficiency = measured / (n * one) if one and cell["rate"] is None else None
        rows.append(ScalingRow(cell, expected, measured, efficiency, tuple(flags)))
    return rows


def server_cores(replicas: int, replica_cpus: float | None) -> int:
    """Cores to pin the replicas to: one each, or as many as their quotas add up to."""
    if replica_cpus is None:
        return replicas
    return max(1, math.ceil(replicas * replica_cpus - 1e-9))


def print_expected(document: dict[str, Any], console: Console) -> None:
    """The expected-vs-measured table, when some cell has a capacity by design."""
    rows = scaling_rows(document)
    if not any(row.expected for row in rows) and not any(r.cell["replicas"] > 1 for r in rows):
        return
    table = Table(title="expected capacity vs measured (docs/scaling.md)")
    columns = ("protocol", "replicas", "load", "expected req/s", "bound by", "measured req/s",
               "measured/expected", "efficiency vs N×1", "flags")  # fmt: skip
    for column in columns:
        left = column in ("protocol", "bound by", "flags")
        table.add_column(column, justify="left" if left else "right")
    for row in rows:
        cell = row.cell
        load = f"{cell['rate']:g}/s open" if cell["rate"] is not None else f"{cell['users']} users"
        table.add_row(
            cell["protocol"], f"{cell['replicas']} ({cell['balancer']})", load,
            f"{row.expected.requests_per_s:,.0f}" if row.expected else "-",
            row.expected.bound_by if row.expected else "-",
            f"{row.measured:,.0f}",
            f"{row.ratio:.2f}" if row.ratio is not None else "-",
            f"{row.efficiency:.0%}" if row.efficiency is not None else "-",
            ", ".join(row.flags) or "-",
        )  # fmt: skip
    console.print(table)
    if any("overcommitted" in row.flags for row in rows):
        console.print(
            f"overcommitted: the replicas' CPU quotas plus the generator's cores add up to more "
            f"than this machine's {os.cpu_count()} CPUs, so the quotas cannot all be honoured "
            "and those cells measure the machine, not the replicas."
        )
