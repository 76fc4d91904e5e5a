"""The ``protobench`` command: serve a protocol, call it, benchmark and report."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from protobench.commands import batch, bench, call, demo, report, serve, strategy, ui, worker

EPILOG = """\
examples:
  protobench demo
  protobench serve --protocol rest --port 8000
  protobench models --protocol rest --target 127.0.0.1:8000
  protobench predict --protocol rest --model iris --features 5.1,3.5,1.4,0.2
  protobench predict --protocol rest --model digits --image seven.png
  protobench bench --protocols rest,grpc --replicas 1,2 --users 1,16
  protobench bench --protocols rest --target 10.0.0.5:8000 --generator-workers 2
  protobench report results --out report.html --lang es
  protobench batch --model iris --input flowers.csv --out sqlite:///predictions.db
  protobench strategy --protocol grpc --model iris --set canary --versions 1,2
  protobench ui                       # the web playground on http://127.0.0.1:7860/

Run `protobench COMMAND --help` for a command's options.
"""

COMMAND_MODULES = (demo, serve, call, bench, report, batch, strategy, ui, worker)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="protobench",
        description="Serve one ML model over REST, gRPC, GraphQL or JSON-RPC, call it, and "
        "measure what each protocol costs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from clients.base import ClientError

    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except ClientError as exc:
        hint = ""
        if exc.protocol_status is None:
            hint = " (is the server running? start it with `protobench serve`)"
        print(f"protobench: {exc.code.value}: {exc.message}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_went_away()
    return code


def _reader_went_away() -> int:
    """``protobench ... | head`` closed the pipe: stop quietly, as a command killed by SIGPIPE
    would (exit 141), and point stdout at /dev/null so the interpreter's final flush cannot
    print a second error."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
