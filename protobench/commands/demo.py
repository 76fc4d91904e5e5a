"""``protobench demo``: start a server, call it, print what came back."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from clients import connect
from clients.base import ClientError
from protobench.commands.common import add_protocol
from protobench.core.images import features_to_png

IRIS_EXAMPLES = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]


def _start(protocol: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port_file = workdir / "port"
    process = subprocess.Popen(
        [sys.executable, "-m", "protobench.cli", "serve", "--protocol", protocol,
         "--port", "0", "--port-file", str(port_file)],
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not port_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"protobench demo: the {protocol} server did not start")
        time.sleep(0.05)
    target = f"127.0.0.1:{port_file.read_text()}"
    with connect(protocol, target) as client:  # type: ignore[arg-type]
        while True:
            try:
                if client.health().ready:
                    break
            except ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"protobench demo: the {protocol} server never became ready")
            time.sleep(0.1)
    return process, target


def run_demo(protocol: str = "rest") -> int:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="protobench-demo-") as tmp:
        console.print(f"[bold]starting a {protocol} server[/] (models train on first use)…")
        process, target = _start(protocol, Path(tmp))
        try:
            with connect(protocol, target) as client:  # type: ignore[arg-type]
                iris = client.predict("iris", IRIS_EXAMPLES)
                from sklearn.datasets import load_digits

                digit = load_digits()
                image = features_to_png(digit.data[7])
                seen = client.predict_image("digits", image)
            table = Table(title=f"predictions over {protocol} from {target}")
            for column in ("model", "version", "input", "label", "p(label)", "served by"):
                table.add_column(column)
            labels = ["setosa", "versicolor", "virginica"]
            for row, p in zip(IRIS_EXAMPLES, iris.predictions, strict=True):
                table.add_row(
                    "iris", iris.version, ", ".join(map(str, row)), p.label,
                    f"{p.probabilities[labels.index(p.label)]:.4f}", iris.served_by,
                )  # fmt: skip
            best = seen.predictions[0]
            table.add_row(
                "digits", seen.version, f"8x8 PNG of a {digit.target[7]}", best.label,
                f"{max(best.probabilities):.4f}", seen.served_by,
            )  # fmt: skip
            console.print(table)
        finally:
            process.terminate()
            process.wait(15)
    return 0


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="the main job: start servers, call them, show the results",
        description="Start a server on a free loopback port, send predictions with the "
        "client and print them.",
    )
    add_protocol(demo)
    demo.set_defaults(run=lambda args: run_demo(args.protocol))
