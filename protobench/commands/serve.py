"""``protobench serve``: run one protocol's server, or N replicas behind a balancer, until
Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protobench.commands.common import add_protocol, file_to_write, port, show
from protobench.commands.model_options import add_model_options, model_overrides, model_serve_args
from protobench.protocols import DEFAULT_PORTS

if TYPE_CHECKING:
    from protobench.core.settings import Settings
    from servers.launcher import Cluster

BALANCER_NAMES = ("reuseport", "nginx", "haproxy", "client")  # servers.balancers.BALANCERS
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
PARENT_POLL_S = 0.5


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run a server for one protocol, or several replicas behind a balancer",
        description="Run the iris and digits models behind one protocol's server until Ctrl-C "
        "or SIGTERM (in-flight requests finish first). Models are trained on first use and "
        "stored under --models-dir. Every setting can also come from a PROTOBENCH_* "
        "environment variable (see the README's settings table). With --replicas or "
        "--balancer, start that many supervised server processes behind a load balancer "
        "instead (see docs/scaling.md).",
    )
    add_protocol(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    serve.add_argument(
        "--port",
        type=port,
        help="port to bind (with replicas: the balancer's public port); 0 picks a free one "
        "(default: the protocol's)",
    )
    serve.add_argument(
        "--model-delay-ms",
        type=float,
        help="add this many milliseconds of non-blocking wait to every prediction, to emulate "
        "a slower model (env PROTOBENCH_MODEL_DELAY_MS)",
    )
    serve.add_argument(
        "--models-dir", type=Path, help="artifact folder (env PROTOBENCH_MODELS_DIR)"
    )
    serve.add_argument("--replica-name", help="identity reported as served_by (default host:pid)")
    serve.add_argument(
        "--max-batch", type=int, help="most instances per predict call (default 1000)"
    )
    serve.add_argument(
        "--reuse-port",
        action="store_true",
        help="bind with SO_REUSEPORT so several replicas can share the port (off by default: a "
        "second server on a busy port is an error)",
    )
    serve.add_argument(
        "--port-file", type=file_to_write, help="write the bound port here once listening"
    )
    serve.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="shut down gracefully when the process that started this one dies (replicas "
        "started by `serve --replicas` use it, so none outlives its launcher)",
    )
    serve.add_argument(
        "--load-first",
        action="store_true",
        help="load the models before listening, so the port opens only once the server can "
        "answer (replicas behind a balancer start this way)",
    )
    serve.add_argument(
        "--metrics-port",
        type=port,
        help="also serve the request counters as Prometheus text on GET /metrics at this port "
        "(0 picks a free one; off by default)",
    )
    serve.add_argument(
        "--metrics-port-file",
        type=file_to_write,
        help="write the metrics port here once listening",
    )
    add_model_options(serve.add_argument_group("the model's resources (docs/scaling.md)"))
    serve.add_argument(
        "--broker",
        help="mqtt only: use the broker at mqtt://host:port (replicas share its requests "
        "through a shared subscription) instead of starting an embedded one on --port "
        "(env PROTOBENCH_MQTT_BROKER)",
    )
    security = serve.add_argument_group("security (docs/hardening.md)")
    security.add_argument(
        "--api-key",
        help="require 'Authorization: Bearer <key>' (gRPC: metadata) on every operation except "
        "health (env PROTOBENCH_API_KEY; the environment keeps it out of `ps`)",
    )
    security.add_argument(
        "--tls-cert", type=Path, help="serve TLS with this PEM certificate (needs --tls-key)"
    )
    security.add_argument("--tls-key", type=Path, help="the PEM private key of --tls-cert")
    scaling = serve.add_argument_group("replicas (docs/scaling.md)")
    scaling.add_argument(
        "--replicas", type=_positive, help="start this many server processes behind --balancer"
    )
    scaling.add_argument(
        "--balancer",
        choices=BALANCER_NAMES,
        help="reuseport (default: the kernel spreads connections), nginx or haproxy "
        "(spread requests), client (gRPC only: the client's round_robin)",
    )
    scaling.add_argument(
        "--cpus",
        type=_cpu_list,
        help="pin the replicas and the balancer to these cores, e.g. 0,1",
    )
    scaling.add_argument(
        "--replica-cpus",
        type=float,
        metavar="F",
        help="give each replica a CPU quota of F CPUs, e.g. 0.25 (a small VM): a cgroup "
        "(v2 cpu.max, v1 cpu.cfs_quota_us) or systemd-run's CPUQuota; refused when neither "
        "can be set here",
    )
    serve.set_defaults(run=run)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _cpu_list(text: str) -> list[int]:
    try:
        return [int(cpu) for cpu in text.split(",") if cpu.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of cores"
        ) from None


def run(args: argparse.Namespace) -> int:
    if any(v is not None for v in (args.replicas, args.balancer, args.cpus, args.replica_cpus)):
        return run_cluster(args)
    from protobench.core.service import InferenceService
    from servers import load_serve
    from servers.listen import Listen

    overrides: dict[str, Any] = {
        "model_delay_ms": args.model_delay_ms,
        "models_dir": args.models_dir,
        "replica_name": args.replica_name,
        "max_batch": args.max_batch,
        "api_key": args.api_key,
        "tls_cert_file": args.tls_cert,
        "tls_key_file": args.tls_key,
        **model_overrides(args),
        "mqtt_broker": args.broker,
    }
    settings = _settings(overrides)
    if settings is None:
        return 2
    serve = load_serve(args.protocol)
    port = DEFAULT_PORTS[args.protocol] if args.port is None else args.port
    listen = Listen(args.host, port, reuse_port=args.reuse_port, port_file=args.port_file)
    service = InferenceService(settings)
    if args.exit_with_parent:
        _exit_with_parent()
    if args.load_first:
        service.load()
    if args.metrics_port is not None:
        from servers.metrics import start_metrics_server

        start_metrics_server(
            service,
            Listen(args.host, args.metrics_port, port_file=args.metrics_port_file),
            protocol=args.protocol,
        )
    serve(service, listen)
    return 0


def _settings(overrides: dict[str, Any]) -> Settings | None:
    """The settings, or None after saying what is wrong with them."""
    from pydantic import ValidationError

    from protobench.core.settings import Settings, settings_problem

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        print(f"protobench: {settings_problem(exc)}", file=sys.stderr)
        return None


def _exit_with_parent() -> None:
    """Watch for the parent's death (we get re-parented) and then SIGTERM ourselves, which
    every adapter answers with its graceful shutdown."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="protobench-parent-watch", daemon=True).start()


def _replica_serve_args(args: argparse.Namespace) -> list[str]:
    """The options every replica inherits; the launcher adds name, ports and files."""
    passed = {
        "--model-delay-ms": args.model_delay_ms,
        "--models-dir": args.models_dir,
        "--max-batch": args.max_batch,
        "--broker": args.broker,  # mqtt: replicas on one broker share its requests
    }
    return [item for option, value in passed.items() if value is not None
            for item in (option, str(value))] + model_serve_args(args)  # fmt: skip


def _refuse_single_server_options(args: argparse.Namespace) -> bool:
    single_only = {"--reuse-port": args.reuse_port, "--replica-name": args.replica_name,
                   "--metrics-port": args.metrics_port is not None,
                   "--tls-cert/--tls-key": bool(args.tls_cert or args.tls_key)}  # fmt: skip
    if wrong := [option for option, given in single_only.items() if given]:
        print(
            f"protobench: {', '.join(wrong)} apply to a single server, not to --replicas "
            "(replicas are named replica-0..N-1 and always expose metrics; terminate TLS at "
            "the balancer)",
            file=sys.stderr,
        )
    return bool(wrong)


@contextmanager
def _stop_requested() -> Iterator[threading.Event]:
    """An event set by Ctrl-C or SIGTERM; while it is held, a second Ctrl-C cannot cut the
    shutdown short. The previous handlers come back afterwards."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_cluster(args: argparse.Namespace) -> int:
    from servers.balancers import BalancerError, get_balancer
    from servers.cpu_quota import QuotaError
    from servers.launcher import LaunchError, launch

    if _refuse_single_server_options(args) or _settings(model_overrides(args)) is None:
        return 2
    balancer = args.balancer or "reuseport"
    try:
        get_balancer(balancer).check(args.protocol)
    except BalancerError as exc:
        print(f"protobench: {exc}", file=sys.stderr)
        return 2
    replicas = args.replicas or 1
    print(f"protobench: starting {replicas} {args.protocol} replica(s) behind {balancer}…",
          file=sys.stderr, flush=True)  # fmt: skip
    try:
        with (
            _stop_requested() as stop,
            launch(
                args.protocol,
                replicas=replicas,
                balancer=balancer,
                host=args.host,
                port=DEFAULT_PORTS[args.protocol] if args.port is None else args.port,
                serve_args=_replica_serve_args(args),
                cpus=args.cpus,
                replica_cpus=args.replica_cpus,
                # In the environment, not the replicas' command lines (visible in `ps`).
                env={"PROTOBENCH_API_KEY": args.api_key} if args.api_key else None,
            ) as cluster,
        ):
            _print_cluster(cluster)
            if args.port_file is not None and cluster.port is not None:
                args.port_file.write_text(str(cluster.port))
            stop.wait()
            counts = cluster.request_counts()
            print("protobench: stopping the balancer, then the replicas…", file=sys.stderr)
    except QuotaError as exc:
        print(f"protobench: {exc}", file=sys.stderr)
        return 2
    except (BalancerError, LaunchError) as exc:
        print(f"protobench: {exc}", file=sys.stderr)
        return 1
    _print_counts(counts)
    return 0


def _print_cluster(cluster: Cluster) -> None:
    from rich.table import Table

    from servers.balancers import get_balancer

    engine = get_balancer(cluster.balancer)
    health = cluster.health()
    table = Table(title=f"{cluster.protocol} · {len(cluster.replicas)} replicas · {engine.name}")
    for column in ("process", "pid", "port", "metrics port", "health"):
        table.add_column(column)
    for replica in cluster.replicas:
        table.add_row(
            replica.name,
            str(replica.pid),
            str(replica.port),
            (replica.metrics_url or "-").rpartition(":")[2].removesuffix("/metrics"),
            "ready" if health.get(replica.name) else "[red]down[/]",
        )
    table.add_row(
        f"balancer: {engine.name}",
        str(cluster.balancer_pid or "-"),
        str(cluster.port or "-"),
        "",
        engine.layer,
    )
    show(table, stderr=True)
    show(f"{engine.name}: {engine.summary}", stderr=True)
    if quota := cluster.cpu_quota:
        show(
            f"quota:  {quota['cpus_per_replica']:g} CPU per replica ({quota['method']}, "
            f"{quota['quota_us']} µs every {quota['period_us']} µs; {quota['where']})",
            stderr=True,
        )
    show(f"target: [bold]{cluster.target}[/]", stderr=True)
    show(
        f"try:    protobench predict --protocol {cluster.protocol} --target {cluster.target} "
        "--features 5.1,3.5,1.4,0.2",
        stderr=True,
    )
    show("Ctrl-C stops everything; a replica that dies is restarted.", stderr=True)


def _print_counts(counts: dict[str, int]) -> None:
    total = sum(counts.values())
    shares = ", ".join(f"{name} {n} ({n / total:.0%})" if total else f"{name} 0"
                       for name, n in counts.items())  # fmt: skip
    print(f"protobench: predictions served per replica: {shares}", file=sys.stderr)
