"""``protobench bench``: the load-test matrix, headless, with a live progress bar."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protobench.commands.bench_remote import add_remote_options, remote_config
from protobench.commands.model_options import add_model_options, model_overrides, model_problem
from protobench.protocols import PROTOCOLS

if TYPE_CHECKING:
    from rich.console import Console

    from loadtests.matrix import BenchConfig

BALANCERS = ("reuseport", "nginx", "haproxy", "client")


def _list(kind: type, allowed: tuple[str, ...] | None = None) -> Any:
    def parse(text: str) -> tuple[Any, ...]:
        try:
            values = tuple(kind(v.strip()) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list") from None
        if not values:
            raise argparse.ArgumentTypeError("the list is empty")
        if allowed is not None and (bad := [v for v in values if v not in allowed]):
            raise argparse.ArgumentTypeError(
                f"unknown {', '.join(map(str, bad))}; choose from {', '.join(allowed)}"
            )
        return values

    return parse


def _stall(values: tuple[float, ...] | None) -> tuple[float, float] | None:
    if values is None:
        return None
    if len(values) != 2 or min(values) < 0:
        raise SystemExit("protobench bench: --stall takes AT,SECONDS, e.g. --stall 2,1")
    return values[0], values[1]


def register(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="run the load-test matrix and record the results",
        description="For every cell of protocols x replicas x load x batch: start the servers "
        "(through the replica launcher and balancer), run Locust headless, measure after the "
        "warm-up, tear everything down. Results go to OUT/<run-id>/results.json and "
        "OUT/results.db; `protobench report OUT` turns them into a page.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    bench.add_argument(
        "--protocols",
        type=_list(str, PROTOCOLS),
        default=",".join(PROTOCOLS),
        help="protocols to compare (comma-separated)",
    )
    bench.add_argument(
        "--replicas", type=_list(int), default="1", help="replica counts, e.g. 1,2,4"
    )
    bench.add_argument(
        "--balancer",
        choices=BALANCERS,
        default="reuseport",
        help="how replicas share the load (client = gRPC round_robin; "
        "other protocols then use reuseport)",
    )
    load = bench.add_mutually_exclusive_group()
    load.add_argument(
        "--users",
        type=_list(int),
        default="16",
        help="closed model: concurrent users, each sending as soon as answered",
    )
    load.add_argument(
        "--rate",
        type=_list(float),
        default=None,
        help="open model: total requests/s (latency also from intended send time)",
    )
    bench.add_argument(
        "--connections",
        type=int,
        default=16,
        help="open model: users (connections) sharing the --rate schedule",
    )
    bench.add_argument(
        "--batch",
        type=_list(int),
        default="1",
        help="instances per predict call, e.g. 1,10,100,1000",
    )
    bench.add_argument(
        "--payload",
        choices=("iris", "iris-xml", "digits-image", "mix"),
        default="iris",
        help="what each call sends; iris-xml is iris with XML answers (REST only)",
    )
    bench.add_argument("--duration", type=float, default=10.0, help="measured seconds per cell")
    bench.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of load before measuring starts"
    )
    bench.add_argument(
        "--repeat", type=int, default=1, help="repeat the whole matrix N times (median and 95%% CI)"
    )
    bench.add_argument(
        "--model-delay-ms",
        type=float,
        default=0.0,
        help="synthetic per-prediction wait on the servers",
    )
    add_model_options(bench)
    bench.add_argument(
        "--replica-cpus",
        type=float,
        metavar="F",
        help="give each replica a CPU quota of F CPUs (cgroup or systemd-run; see "
        "`protobench serve --help`)",
    )
    bench.add_argument(
        "--generator-processes",
        type=int,
        default=0,
        help="Locust processes (0: one per core left after pinning replicas)",
    )
    bench.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin replicas and load generator to separate cores",
    )
    bench.add_argument(
        "--stall",
        type=_list(float),
        help="AT,SECONDS: pause every replica (SIGSTOP) AT seconds into the measured window for "
        "SECONDS, to show coordinated omission; pair it with --rate",
    )
    bench.add_argument(
        "--driver",
        type=_list(str, ("locust", "native")),
        default="locust",
        help="what sends the load: locust (the Python users, every answer checked), native (wrk "
        "for the HTTP/1.1 protocols, h2load for gRPC, closed model and iris predict only: a "
        "cross-check that Locust measured the server, not itself), or locust,native side by side",
    )
    bench.add_argument(
        "--slo",
        type=_slo,
        metavar="SPEC",
        help="judge every cell, e.g. 'p99<50ms,errors<0.1%%,rps>1000' (latency p50/p90/p99/"
        "p99.9/max/mean, errors, rps, pps); prints pass/fail, records it in results.json and "
        "the report, exits 3 when a cell fails",
    )
    add_remote_options(bench)
    bench.add_argument("--out", type=Path, default=Path("results"), help="results folder")
    bench.set_defaults(run=run)  # fmt: skip


def _slo(text: str) -> str:
    from loadtests.slo import parse

    try:
        parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _quota_problem(replica_cpus: float | None) -> str | None:
    """Why no replica could get its CPU quota here (found before the first cell)."""
    from servers.cpu_quota import CpuQuota, QuotaError

    if replica_cpus is None:
        return None
    try:
        CpuQuota.choose(replica_cpus).remove()
    except QuotaError as exc:
        return str(exc)
    return None


def _warn_overcommitted(config: BenchConfig, console: Console) -> None:
    """Say before the run which replica counts this machine cannot give their quotas."""
    from loadtests.expected import cores_needed, overcommitted
    from loadtests.runner import plan_cpus

    for n in config.replicas:
        plan = plan_cpus(n, config.generator_processes, config.pin, config.replica_cpus)
        generator = len(plan["generator_cpus"] or []) or 1
        if overcommitted(n, config.replica_cpus, generator):
            console.print(
                f"[yellow]warning:[/] {n} replicas × {config.replica_cpus:g} CPU + {generator} "
                f"generator core(s) = {cores_needed(n, config.replica_cpus, generator):g} CPUs, "
                f"more than this machine's {os.cpu_count()}: the quotas cannot all be honoured "
                "(those cells are flagged overcommitted)"
            )


def _payload_problem(args: argparse.Namespace) -> str | None:
    """iris-xml is REST's Accept: application/xml; no other protocol has XML answers."""
    others = [p for p in args.protocols if p != "rest"]
    if args.payload == "iris-xml" and others:
        return (
            f"--payload iris-xml is REST's XML answers; drop {', '.join(others)} "
            "(--protocols rest), and compare with a second run of --payload iris"
        )
    return None


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from loadtests.expected import print_expected
    from loadtests.matrix import BenchConfig, Cell, cells
    from loadtests.native import unusable
    from loadtests.results import load_run
    from loadtests.runner import run_matrix
    from loadtests.summary import print_summary

    if problem := (
        model_problem(args) or _quota_problem(args.replica_cpus) or _payload_problem(args)
    ):
        print(f"protobench bench: {problem}", file=sys.stderr)
        return 2
    config = BenchConfig(
        protocols=args.protocols,
        replicas=args.replicas,
        balancer=args.balancer,
        users=(args.connections,) if args.rate else args.users,
        rates=args.rate or (),
        batches=args.batch,
        payload=args.payload,
        duration_s=args.duration,
        warmup_s=args.warmup,
        repeat=args.repeat,
        model_delay_ms=args.model_delay_ms,
        **model_overrides(args),
        replica_cpus=args.replica_cpus,
        generator_processes=args.generator_processes,
        pin=not args.no_pin,
        stall=_stall(args.stall),
        drivers=args.driver,
        **remote_config(args),
    )
    if "native" in config.drivers and (
        problem := unusable(config.protocols, config.payload, config.open_model)
    ):
        raise SystemExit(f"protobench bench: {problem}")
    console = Console(stderr=True)
    plan = cells(config)
    _warn_overcommitted(config, console)
    per_cell = config.warmup_s + config.duration_s
    console.print(f"[bold]{len(plan)} cells[/], about {len(plan) * (per_cell + 6) / 60:.1f} min")
    if config.cold_starts and config.remote is None:
        starts = 2 * config.cold_starts * len(config.protocols)
        console.print(f"then {starts} cold starts (seconds each; a minute on a loaded machine)")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[rate]}"),
        console=console,
    ) as bar:
        overall = bar.add_task("matrix", total=len(plan), rate="")
        current = bar.add_task("starting", total=per_cell, rate="")

        def on_cell_start(i: int, total: int, cell: Cell) -> None:
            bar.update(overall, completed=i, description=f"cell {i + 1}/{total}")
            bar.reset(current, total=per_cell, description=cell.label, rate="launching…")

        def progress(elapsed: float, rate: float) -> None:
            phase = "warm-up" if elapsed < config.warmup_s else "measuring"
            bar.update(current, completed=min(elapsed, per_cell), rate=f"{rate:,.0f} req/s {phase}")

        def on_cold_start(i: int, total: int, label: str) -> None:
            bar.update(overall, completed=len(plan), description="cold starts")
            bar.reset(current, total=total, completed=i, description=label, rate=f"{i}/{total}")

        path = run_matrix(config, args.out, sys.argv, on_cell_start, progress, on_cold_start)
        bar.update(overall, completed=len(plan))
    document = load_run(path)
    wide = Console(width=None if sys.stdout.isatty() else 160)
    print_summary(document, wide)
    print_expected(document, wide)
    print(f"results: {path}")
    slo_failed = args.slo is not None and not _judge(args.slo, document, path)
    empty = [c["cell_id"] for c in document["cells"] if "no-successful-requests" in c["flags"]]
    if empty:
        print(
            f"protobench bench: {len(empty)} cell(s) measured no successful request "
            f"({', '.join(empty)}); see locust.log and servers/ in {path.parent / 'cells'}",
            file=sys.stderr,
        )
        return 1
    return 3 if slo_failed else 0


def _judge(spec: str, document: dict[str, Any], path: Path) -> bool:
    """Judge the cells against the SLO, record it next to them, print the verdicts."""
    from loadtests.slo import judge_run, record, verdict_table
    from protobench.commands.common import show

    passed = judge_run(document, spec)
    record(path, document)
    show(verdict_table(document))
    return passed
