"""``protobench demo`` (what `make demo` runs): the protocol comparison on embedded defaults.

1. One server per protocol answers the same prediction: the model is the same, only the
   protocol changes. While each is up, where one predict's CPU goes is measured
   (``loadtests.breakdown``) and stored with the comparison's results for the report.
2. A small bench matrix: every registered protocol, one replica each, the real model.
3. The scaling lessons on a capacity-limited model (``demo_scaling``): 1, 2, 4 replicas behind
   an L7 balancer, the knee of an open-model sweep moving right, gRPC's one channel behind L4
   and L7.
4. The report over all of it, in Spanish and English, and where to find it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from protobench.commands.common import show
from protobench.protocols import PROTOCOLS

BREAKDOWN_CALLS = 100  # per round, per call kind: enough for a steady CPU figure, quick
Breakdowns = dict[str, dict[str, dict[str, float]]]
IRIS_EXAMPLE = [6.2, 2.9, 4.3, 1.3]


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help=f"the main job: compare the {len(PROTOCOLS)} protocols and write the report",
        description=f"Start each protocol's server ({', '.join(PROTOCOLS)}) and show one "
        "prediction from each, run a small load-test matrix (every protocol, one replica each), "
        "then the scaling lessons "
        "on a model that serves 100 predictions/s per replica (1, 2, 4 replicas behind nginx, "
        "or the kernel's reuseport when no balancer is installed; an open-model rate sweep; "
        "gRPC's one channel behind L4 and L7), and write the report in Spanish and English. "
        "Takes a few minutes.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument("--out", type=Path, default=Path("results"), help="results folder")
    demo.add_argument("--duration", type=float, default=6.0, help="measured seconds per cell")
    demo.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per cell")
    demo.add_argument("--users", type=int, default=16, help="closed-model users per cell")
    demo.add_argument(
        "--scaling-duration", type=float, default=4.0, help="measured seconds per scaling cell"
    )
    demo.add_argument(
        "--scaling-warmup", type=float, default=1.0, help="warm-up seconds per scaling cell"
    )
    demo.set_defaults(run=run)


def _same_answer_everywhere() -> Breakdowns:
    """Show one answer per protocol and, while each server is up, measure where the CPU of one
    predict goes (``loadtests.breakdown``: a few hundred calls, a second or two each)."""
    from rich.table import Table

    from clients import connect
    from loadtests.breakdown import breakdown, has_codec
    from protobench.core.service import InferenceService
    from protobench.core.settings import Settings
    from servers.launcher import launch

    service = InferenceService(Settings())
    service.load()
    table = Table(title=f"one iris flower {IRIS_EXAMPLE}, {len(PROTOCOLS)} protocols")
    for column in ("protocol", "target", "label", "probabilities", "served by"):
        table.add_column(column)
    costs: Breakdowns = {}
    for protocol in PROTOCOLS:
        with launch(protocol, replicas=1) as cluster, connect(protocol, cluster.target) as client:
            answer = client.predict("iris", [IRIS_EXAMPLE])
            p = answer.predictions[0]
            table.add_row(
                protocol, cluster.target, p.label,
                ", ".join(f"{x:.4f}" for x in p.probabilities), answer.served_by,
            )  # fmt: skip
            if has_codec(protocol):
                costs[protocol] = breakdown(
                    protocol, client, cluster.pids(), service, BREAKDOWN_CALLS
                )
    show(table)
    if skipped := [p for p in PROTOCOLS if not has_codec(p)]:
        print(
            f"CPU breakdown of one predict: not measured for {', '.join(skipped)}, whose spec "
            "names no codec (ProtocolSpec.codec, docs/adding-a-protocol.md)"
        )
    return costs


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from loadtests.breakdown import store as store_breakdown
    from loadtests.report import write_report
    from protobench.cli import main as cli_main
    from protobench.commands.demo_scaling import run_lessons

    console = Console()
    console.rule(f"[bold]1. the same model behind {len(PROTOCOLS)} protocols")
    costs = _same_answer_everywhere()
    console.rule(f"[bold]2. load test: {len(PROTOCOLS)} protocols, one replica each")
    args.out.mkdir(parents=True, exist_ok=True)
    code = cli_main([
        "bench", "--protocols", ",".join(PROTOCOLS), "--replicas", "1",
        "--users", str(args.users), "--duration", str(args.duration),
        "--warmup", str(args.warmup), "--out", str(args.out),
    ])  # fmt: skip
    if code != 0:
        return code
    comparison = sorted(args.out.glob("*/results.json"))[-1]
    store_breakdown(comparison, costs)  # the report's "where the CPU goes" charts
    console.rule("[bold]3. scaling: replicas of a model that serves 100 predictions/s each")
    code, lessons = run_lessons(
        lambda argv: cli_main(["bench", *argv]), args.out, console,
        args.scaling_duration, args.scaling_warmup,
    )  # fmt: skip
    if code != 0:
        return code
    console.rule("[bold]4. the report")
    for lang in ("es", "en"):
        out = comparison.parent / f"report.{lang}.html"
        path = write_report([comparison, *lessons], out, lang=lang)
        console.print(f"report ({lang}): [link=file://{path.resolve()}]{path}[/link]")
    print(f"open {comparison.parent / 'report.es.html'} in a browser", file=sys.stderr)
    return 0
