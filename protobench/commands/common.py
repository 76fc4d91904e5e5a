"""Arguments several commands share."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from protobench.protocols import DEFAULT_PORTS, PROTOCOLS, Protocol

if TYPE_CHECKING:
    from rich.console import RenderableType

    from clients.base import InferenceClient


UNLIMITED = 100_000  # columns: wide enough that nothing people copy is wrapped or cut


def port(text: str) -> int:
    """An argparse type: a TCP port, 0 (pick a free one) to 65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0-65535; 0 picks a free one)")
    return int(text)


def file_to_write(text: str) -> Path:
    """An argparse type: a file path whose folder exists, so writing it later cannot fail on
    a typo in the folder."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"folder {str(path.parent)!r} does not exist")
    return path


def show(renderable: RenderableType, *, stderr: bool = False) -> None:
    """Print a table or a line. On a terminal it fits the window; piped or redirected, where
    rich would assume 80 columns, it takes the width it needs, so no command or number that
    people copy is wrapped or cut short."""
    from rich.console import Console
    from rich.measure import Measurement

    console = Console(stderr=stderr, soft_wrap=True)
    if not console.is_terminal:
        wide = Console(stderr=stderr, soft_wrap=True, width=UNLIMITED)
        width = Measurement.get(wide, wide.options, renderable).maximum
        console = Console(stderr=stderr, soft_wrap=True, width=max(width, 1))
    console.print(renderable)


def add_protocol(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="rest",
        help="which API protocol to speak (default: rest)",
    )


def add_client_options(parser: argparse.ArgumentParser) -> None:
    add_protocol(parser)
    parser.add_argument(
        "--target",
        help="host:port of the server (default: 127.0.0.1 and the protocol's default port: "
        + ", ".join(f"{p} {port}" for p, port in DEFAULT_PORTS.items())
        + ")",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per call (10)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("PROTOBENCH_API_KEY"),
        help="sent as 'Authorization: Bearer KEY' (gRPC: metadata) when the server asks for one "
        "(default: env PROTOBENCH_API_KEY)",
    )
    parser.add_argument(
        "--tls-ca", type=Path, help="PEM file certifying a TLS server (turns TLS on)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def open_client(args: argparse.Namespace) -> InferenceClient:
    """The client the options describe."""
    from clients import connect

    return connect(
        args.protocol,
        target_of(args),
        timeout=args.timeout,
        api_key=args.api_key,
        tls_ca=args.tls_ca,
    )


def target_of(args: argparse.Namespace) -> str:
    protocol: Protocol = args.protocol
    return str(args.target or f"127.0.0.1:{DEFAULT_PORTS[protocol]}")
