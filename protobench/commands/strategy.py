"""``protobench strategy``, ``feedback`` and ``predictions``: deployment strategies and stored
batch predictions of a running server, over any protocol."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, get_args

from protobench.commands.common import add_client_options, open_client, show, target_of
from protobench.core.types import BanditAlgorithm, StrategyKind, StrategyStatus

# Options that set a StrategyConfig field when given (name -> type).
CONFIG_OPTIONS: dict[str, tuple[type, str]] = {
    "canary_percent": (float, "canary: percent of calls sent to the candidate"),
    "max_error_rate": (float, "canary: error rate (0-1) past which it is rolled back by itself"),
    "min_calls": (int, "canary: calls the candidate serves before its error rate is judged"),
    "epsilon": (float, "bandit epsilon-greedy: share of calls that explore (0-1)"),
    "seed": (int, "seed of the strategy's random choices, for repeatable routing"),
}


def _csv(cast: type) -> Any:
    def parse(text: str) -> list[Any]:
        return [cast(item) for item in text.split(",") if item.strip()]

    return parse


def register(commands: Any) -> None:
    strategy = commands.add_parser(
        "strategy",
        help="show or change a model's deployment strategy",
        description="Without --set, --promote or --rollback: print the model's strategy and "
        "each version's statistics. See docs/strategies.md.",
    )
    add_client_options(strategy)
    strategy.add_argument("--model", default="iris", help="model name (iris)")
    action = strategy.add_mutually_exclusive_group()
    action.add_argument("--set", choices=get_args(StrategyKind), help="replace the strategy")
    action.add_argument(
        "--promote", action="store_true", help="canary/shadow: the candidate takes all traffic"
    )
    action.add_argument(
        "--rollback", action="store_true", help="canary/shadow: the stable version takes it all"
    )
    strategy.add_argument(
        "--versions",
        type=_csv(str),
        default=[],
        help="with --set: comma-separated versions, stable first (canary/shadow: stable, "
        "candidate)",
    )
    strategy.add_argument(
        "--weights", type=_csv(float), default=[], help="with --set ab: one weight per version"
    )
    strategy.add_argument("--bandit", choices=get_args(BanditAlgorithm), help="bandit algorithm")
    for name, (cast, text) in CONFIG_OPTIONS.items():
        strategy.add_argument(f"--{name.replace('_', '-')}", type=cast, help=text)
    strategy.set_defaults(run=run_strategy)

    feedback = commands.add_parser(
        "feedback",
        help="reward an earlier prediction (bandits learn from it)",
        description="Send a reward in [0, 1] for the prediction_id an answer carried.",
    )
    add_client_options(feedback)
    feedback.add_argument("--id", required=True, help="the answer's prediction_id")
    feedback.add_argument("--reward", required=True, type=float, help="0 (bad) to 1 (good)")
    feedback.set_defaults(run=run_feedback)

    stored = commands.add_parser(
        "predictions",
        help="read the predictions a batch job stored",
        description="One stored prediction (--id JOB/INPUT_ID) or a page of a job's (--job).",
    )
    add_client_options(stored)
    which = stored.add_mutually_exclusive_group(required=True)
    which.add_argument("--job", help="the batch job's name")
    which.add_argument("--id", help="JOB/INPUT_ID of one stored prediction")
    stored.add_argument("--limit", type=int, default=20, help="rows per page (20)")
    stored.add_argument("--offset", type=int, default=0, help="rows to skip (0)")
    stored.set_defaults(run=run_predictions)


def run_strategy(args: argparse.Namespace) -> int:
    from protobench.core.types import StrategyConfig

    with open_client(args) as client:
        if args.set:
            fields: dict[str, Any] = {
                "kind": args.set,
                "versions": args.versions,
                "weights": args.weights,
            }
            if args.bandit:
                fields["bandit"] = args.bandit
            fields |= {n: getattr(args, n) for n in CONFIG_OPTIONS if getattr(args, n) is not None}
            status = client.set_strategy(args.model, StrategyConfig.model_validate(fields))
        elif args.promote:
            status = client.promote(args.model)
        elif args.rollback:
            status = client.rollback(args.model)
        else:
            status = client.get_strategy(args.model)
    if args.json:
        print(status.model_dump_json(indent=2))
    else:
        _print_status(status)
    return 0


def _print_status(status: StrategyStatus) -> None:
    from rich.table import Table

    config = status.strategy
    summary = f"{status.model}: {config.kind} {', '.join(config.versions) or '(default version)'}"
    table = Table(title=summary, caption=status.event or None)
    columns = ("version", "calls", "errors", "ms", "feedback", "reward", "shadow", "agree")
    for column in columns:
        table.add_column(column, justify="right")
    for s in status.stats:
        table.add_row(
            s.version,
            str(s.calls),
            str(s.errors),
            f"{s.latency_ms_mean:.3f}",
            str(s.feedback),
            f"{s.reward_mean:.2f}",
            str(s.shadow_calls),
            f"{s.shadow_agreement:.1%}" if s.shadow_calls else "-",
        )
    show(table)


def run_feedback(args: argparse.Namespace) -> int:
    with open_client(args) as client:
        answer = client.feedback(args.id, args.reward)
    print(answer.model_dump_json(indent=2 if args.json else None))
    return 0


def run_predictions(args: argparse.Namespace) -> int:
    from rich.table import Table

    with open_client(args) as client:
        if args.id:
            rows = [client.get_prediction(args.id)]
        else:
            rows = client.list_predictions(args.job, args.limit, args.offset)
            if not rows:  # a job exists only through its rows: none at all means no such job
                where = f" past offset {args.offset}" if args.offset else ""
                unknown = "" if args.offset else f"unknown job {args.job!r}: "
                print(f"protobench: {unknown}no stored predictions{where} for job {args.job!r} "
                      f"at {target_of(args)}", file=sys.stderr)  # fmt: skip
                return 1
    if args.json:
        print(json.dumps([row.model_dump() for row in rows], indent=2))
        return 0
    table = Table(title=f"stored predictions ({len(rows)})")
    for column in ("id", "version", "label", "probabilities", "scored at"):
        table.add_column(column)
    for row in rows:
        probabilities = " ".join(f"{p:.3f}" for p in row.probabilities)
        table.add_row(row.prediction_id, row.version, row.label, probabilities, row.created_at)
    show(table)
    return 0
