"""``protobench ui``: the web playground (gradio, the optional ``ui`` extra)."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from protobench.protocols import PROTOCOLS


def register(commands: Any) -> None:
    ui = commands.add_parser(
        "ui",
        help="a web playground: one prediction over every protocol, on the wire",
        description="Start a local server for every protocol (or use --target), then serve a "
        "page where the same prediction goes over each protocol and the exchange is shown as "
        "it crossed the wire; Compare also evaluates the model in the browser with no server. "
        "Needs the ui extra: pip install -e '.[ui]'. Works offline.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ui.add_argument("--host", default="127.0.0.1", help="address the page listens on")
    ui.add_argument("--port", type=int, default=7860, help="port of the page (0: a free one)")
    ui.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="PROTOCOL=HOST:PORT",
        help="use a running server for PROTOCOL instead of starting one (repeatable)",
    )
    ui.add_argument(
        "--protocols", default=",".join(PROTOCOLS), help="protocols to offer, comma-separated"
    )
    ui.add_argument("--models-dir", type=Path, help="model artifacts (default: the settings')")
    ui.set_defaults(run=run)


def _given_targets(values: list[str]) -> dict[str, tuple[str, int]]:
    given: dict[str, tuple[str, int]] = {}
    for value in values:
        protocol, _, address = value.partition("=")
        host, _, port = address.rpartition(":")
        if protocol not in PROTOCOLS or not host or not port.isdigit():
            raise SystemExit(f"protobench ui: --target {value!r}: use PROTOCOL=HOST:PORT with "
                             f"PROTOCOL one of {', '.join(PROTOCOLS)}")  # fmt: skip
        given[protocol] = (host, int(port))
    return given


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from a classroom
    try:
        from protobench.playground.app import I18N, THEME, build
    except ImportError as missing:
        print(f"protobench ui needs the ui extra ({missing.name} is missing): "
              "pip install -e '.[ui]'", file=sys.stderr)  # fmt: skip
        return 2
    from protobench.core.settings import Settings
    from protobench.playground.actions import Playground, Target
    from protobench.playground.on_device import weights_document
    from servers.launcher import launch

    given = _given_targets(args.target)
    wanted = [p for p in args.protocols.split(",") if p]
    models_dir = args.models_dir or Settings().models_dir
    serve_args = ["--models-dir", str(models_dir)]
    with ExitStack() as stack:
        targets = []
        for protocol in wanted:
            if protocol in given:
                host, port = given[protocol]
            else:
                cluster = stack.enter_context(launch(protocol, serve_args=serve_args))
                host, _, port_text = cluster.target.rpartition(":")
                port = int(port_text)
            targets.append(Target(protocol, host, port))
        playground = Playground(targets)
        stack.callback(playground.close)
        page = build(playground, weights_document(models_dir))
        print(f"protobench ui: http://{args.host}:{args.port}/ (Ctrl-C stops it)", file=sys.stderr)
        page.launch(
            server_name=args.host, server_port=args.port or None, theme=THEME,
            i18n=I18N, show_error=True, quiet=True,
        )  # fmt: skip
    return 0
