"""``bench`` options for going beyond one machine: external servers, distributed Locust, and
the cold start that scaling to zero costs."""

from __future__ import annotations

import argparse
from typing import Any

from loadtests.distributed import DEFAULT_MASTER_PORT, Distribution


def _targets(text: str) -> tuple[str, ...]:
    from loadtests.remote import parse_targets  # here: every command line, `serve` too, parses

    try:
        return parse_targets(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_remote_options(bench: argparse.ArgumentParser) -> None:
    group = bench.add_argument_group("beyond one machine, scale to zero (docs/deploy.md)")
    group.add_argument(
        "--target",
        type=_targets,
        help="HOST:PORT[,HOST:PORT] of servers bench does not start (another machine, a "
        "cluster's Service); skips the launcher, so --replicas and --balancer do not apply. "
        "Several addresses: grpc only (client round robin)",
    )
    group.add_argument(
        "--metrics-url",
        action="append",
        default=[],
        metavar="URL",
        help="with --target: a replica's metrics page (http://HOST:9100/metrics), once per "
        "replica, to measure server CPU and per-replica shares; without it server CPU is "
        "recorded as unknown",
    )
    group.add_argument(
        "--generator-workers",
        type=int,
        default=0,
        help="run Locust in its distributed mode: a master plus this many local worker "
        "processes (0 with --remote-workers: only remote ones)",
    )
    group.add_argument(
        "--remote-workers",
        type=int,
        default=0,
        help="also wait for this many workers started elsewhere with "
        "`protobench worker --master THIS-HOST`",
    )
    group.add_argument(
        "--master-bind",
        default="127.0.0.1",
        help="address the Locust master listens on for workers (0.0.0.0 for remote ones)",
    )
    group.add_argument(
        "--master-port",
        type=int,
        default=0,
        help=f"the master's port (0: a free one; remote workers need a fixed one, e.g. "
        f"{DEFAULT_MASTER_PORT})",
    )
    group.add_argument(
        "--cold-starts",
        type=int,
        default=0,
        metavar="N",
        help="also time N starts per protocol, from process start to the first answered "
        "predict, with models on disk and with training on first use (servers started here "
        "only; about 2 x N x protocols starts)",
    )


def remote_config(args: argparse.Namespace) -> dict[str, Any]:
    """The BenchConfig fields these options set; SystemExit with a clear message if they
    contradict each other."""
    if args.metrics_url and not args.target:
        raise SystemExit("protobench bench: --metrics-url needs --target")
    from loadtests.remote import RemoteTargets

    remote = RemoteTargets(args.target, tuple(args.metrics_url)) if args.target else None
    if remote is not None:
        try:
            for protocol in args.protocols:
                remote.locust_host(protocol)
        except ValueError as exc:
            raise SystemExit(f"protobench bench: {exc}") from None
    distribution = None
    if args.generator_workers or args.remote_workers:
        port = args.master_port or (DEFAULT_MASTER_PORT if args.remote_workers else 0)
        try:
            distribution = Distribution(
                args.generator_workers, args.remote_workers, args.master_bind, port
            )
        except ValueError as exc:
            raise SystemExit(f"protobench bench: {exc}") from None
    if args.cold_starts < 0:
        raise SystemExit("protobench bench: --cold-starts cannot be negative")
    return {"remote": remote, "distribution": distribution, "cold_starts": args.cold_starts}
