"""The ``protobench`` command: serve a protocol, call it, and (later) benchmark and report."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from protobench.protocols import DEFAULT_PORTS, PROTOCOLS, Protocol

EPILOG = """\
examples:
  protobench serve --protocol rest --port 8000
  protobench models --protocol rest --target 127.0.0.1:8000
  protobench predict --protocol rest --model iris --features 5.1,3.5,1.4,0.2
  protobench predict --protocol rest --model digits --image seven.png
"""


def _protocol_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="rest",
        help="which API protocol to speak (default: rest)",
    )


def _client_args(parser: argparse.ArgumentParser) -> None:
    _protocol_arg(parser)
    parser.add_argument(
        "--target",
        help="host:port of the server (default: 127.0.0.1 and the protocol's default port: "
        + ", ".join(f"{p} {port}" for p, port in DEFAULT_PORTS.items())
        + ")",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call (10)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="protobench",
        description="Serve one ML model over REST, gRPC, GraphQL or JSON-RPC, call it, and "
        "measure what each protocol costs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run a server for one protocol",
        description="Run the iris and digits models behind one protocol's server until Ctrl-C "
        "or SIGTERM (in-flight requests finish first). Models are trained on first use and "
        "stored under --models-dir.",
    )
    _protocol_arg(serve)
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

    models = commands.add_parser(
        "models", help="list the models a server holds", description="List models and versions."
    )
    _client_args(models)

    predict = commands.add_parser(
        "predict",
        help="send a prediction",
        description="Send features (repeat --features for a batch) or an image file and print "
        "the predicted label with each class probability.",
    )
    _client_args(predict)
    predict.add_argument("--model", default="iris", help="model name (iris or digits)")
    predict.add_argument("--version", help="model version (default: the model's default)")
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--features",
        action="append",
        metavar="X1,X2,...",
        help="one instance as comma-separated numbers; repeat for a batch",
    )
    source.add_argument("--image", type=Path, help="a PNG or JPEG file (digits model)")
    demo = commands.add_parser(
        "demo",
        help="the main job: start servers, call them, show the results",
        description="Start a server on a free loopback port, send predictions with the "
        "client and print them.",
    )
    _protocol_arg(demo)
    return parser


def _demo(args: argparse.Namespace) -> int:
    from protobench.demo import run_demo

    return run_demo(args.protocol)


def _target(args: argparse.Namespace) -> str:
    protocol: Protocol = args.protocol
    return str(args.target or f"127.0.0.1:{DEFAULT_PORTS[protocol]}")


def _serve(args: argparse.Namespace) -> int:
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
        print(f"protobench: {exc}; available now: rest", file=sys.stderr)
        return 2
    port = DEFAULT_PORTS[args.protocol] if args.port is None else args.port
    listen = Listen(args.host, port, reuse_port=args.reuse_port, port_file=args.port_file)
    serve(InferenceService(settings), listen)
    return 0


def _print_models(console: Console, models: Sequence[Any]) -> None:
    table = Table(title="models")
    for column in ("name", "task", "versions", "default", "input", "labels"):
        table.add_column(column)
    for m in models:
        table.add_row(
            m.name,
            m.task,
            ", ".join(m.versions),
            m.default_version,
            f"{m.input.name} {m.input.dtype} {m.input.shape}",
            ", ".join(m.labels),
        )
    console.print(table)


def _models(args: argparse.Namespace) -> int:
    from clients import connect

    with connect(args.protocol, _target(args), timeout=args.timeout) as client:
        models = client.list_models()
    if args.json:
        print(json.dumps([m.model_dump() for m in models], indent=2))
    else:
        _print_models(Console(), models)
    return 0


def _parse_features(raw: list[str]) -> list[list[float]]:
    rows = []
    for text in raw:
        try:
            rows.append([float(x) for x in text.split(",") if x.strip()])
        except ValueError:
            raise SystemExit(
                f"protobench: --features {text!r} is not a comma-separated list of numbers"
            ) from None
    return rows


def _predict(args: argparse.Namespace) -> int:
    from clients import connect

    with connect(args.protocol, _target(args), timeout=args.timeout) as client:
        if args.image is not None:
            try:
                image = args.image.read_bytes()
            except OSError as exc:
                raise SystemExit(f"protobench: cannot read {args.image}: {exc.strerror}") from None
            response = client.predict_image(args.model, image, args.version)
        else:
            response = client.predict(args.model, _parse_features(args.features), args.version)
        labels = client.get_model(response.model).labels
    if args.json:
        print(response.model_dump_json(indent=2))
        return 0
    table = Table(
        title=f"{response.model} v{response.version} · served by {response.served_by} "
        f"· {args.protocol}"
    )
    table.add_column("#", justify="right")
    table.add_column("label", style="bold")
    for name in labels:
        table.add_column(f"p({name})", justify="right")
    for i, prediction in enumerate(response.predictions):
        table.add_row(str(i), prediction.label, *(f"{p:.4f}" for p in prediction.probabilities))
    Console().print(table)
    return 0


COMMANDS = {"serve": _serve, "models": _models, "predict": _predict, "demo": _demo}


def main(argv: Sequence[str] | None = None) -> int:
    from clients.base import ClientError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ClientError as exc:
        hint = ""
        if exc.protocol_status is None or exc.code.value == "NOT_READY":
            hint = " (is the server running? start it with `protobench serve`)"
        print(f"protobench: {exc.code.value}: {exc.message}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
