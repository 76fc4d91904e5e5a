"""Arguments several commands share."""

from __future__ import annotations

import argparse

from protobench.protocols import DEFAULT_PORTS, PROTOCOLS, Protocol


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
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def target_of(args: argparse.Namespace) -> str:
    protocol: Protocol = args.protocol
    return str(args.target or f"127.0.0.1:{DEFAULT_PORTS[protocol]}")
