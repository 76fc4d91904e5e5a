"""``protobench serve``: run one protocol's server until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from protobench.commands.common import add_protocol
from protobench.protocols import DEFAULT_PORTS


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run a server for one protocol",
        description="Run the iris and digits models behind one protocol's server until Ctrl-C "
        "or SIGTERM (in-flight requests finish first). Models are trained on first use and "
        "stored under --models-dir. Every setting can also come from a PROTOBENCH_* "
        "environment variable (see the README's settings table).",
    )
    add_protocol(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    serve.add_argument(
        "--port", type=int, help="port to bind; 0 picks a free one (default: the protocol's)"
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
    serve.add_argument("--port-file", type=Path, help="write the bound port here once listening")
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from protobench.core.service import InferenceService
    from protobench.core.settings import Settings
    from servers import NotBuiltError, load_serve
    from servers.listen import Listen

    overrides: dict[str, Any] = {
        "model_delay_ms": args.model_delay_ms,
        "models_dir": args.models_dir,
        "replica_name": args.replica_name,
        "max_batch": args.max_batch,
    }
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    try:
        serve = load_serve(args.protocol)
    except NotBuiltError as exc:
        print(f"protobench: {exc}", file=sys.stderr)
        return 2
    port = DEFAULT_PORTS[args.protocol] if args.port is None else args.port
    listen = Listen(args.host, port, reuse_port=args.reuse_port, port_file=args.port_file)
    serve(InferenceService(settings), listen)
    return 0
