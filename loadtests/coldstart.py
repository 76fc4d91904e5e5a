"""Cold start: the time from a server's process start to its first successful predict.

What scaling to zero and serverless cost the first caller after an idle period: the process
starts, imports its protocol stack, loads (or first trains) the models, opens its port, answers.
Measured per protocol over several starts, in two conditions:
- ``models_on_disk``: the artifacts exist (what the image does: trained at build time);
- ``train_on_first_use``: an empty models folder, so the server trains before it can answer.
Starts are interleaved (protocol by protocol, condition by condition, start after start) so a
slow spell of the machine spreads over all of them. A container or a pod adds its own start
(image pull, sandbox, probes) on top: these are the process's share only.
"""

from __future__ import annotations

import itertools
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from clients import connect
from clients.base import ClientError
from protobench.core.registry import ModelRegistry
from protobench.protocols import Protocol

CONDITIONS = ("models_on_disk", "train_on_first_use")
POLL_S = 0.02
GIVE_UP_S = 300.0  # training on a busy 2-core machine can take minutes
IRIS = [[5.1, 3.5, 1.4, 0.2]]


class ColdStartError(RuntimeError):
    """A server did not answer a predict in time; the message carries its log's tail."""


def _accepts(port: int) -> bool:
    """Whether the port takes a TCP connection: until it does, no client library is asked (some
    log every refused connection)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _first_predict(protocol: Protocol, port: int, process: subprocess.Popen[bytes]) -> bool:
    """One predict on a fresh client (no reconnect back-off carried over); False if the server
    cannot answer yet."""
    if process.poll() is not None or not _accepts(port):
        return False
    target = f"127.0.0.1:{port}"
    try:
        with connect(protocol, target, timeout=2.0) as client:
            client.predict("iris", IRIS)
        return True
    except ClientError:
        return False


def _bound_port(port_file: Path) -> int | None:
    """The port the server announced once listening, if it has yet."""
    try:
        text = port_file.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text else None


def time_one_start(protocol: Protocol, models_dir: Path, log: Path) -> float:
    """Seconds from spawning ``protobench serve`` to its first successful predict. The server
    binds port 0 and announces the port it got (``--port-file``): a free port picked here could
    be taken by another process before the server binds it."""
    port_file = log.with_suffix(".port")
    port_file.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "protobench.cli", "serve", "--protocol", protocol,
        "--host", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
        "--models-dir", str(models_dir), "--load-first",
    ]  # fmt: skip
    with log.open("ab") as out:
        logged_before = out.tell()
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        while (port := _bound_port(port_file)) is None or not _first_predict(
            protocol, port, process
        ):
            if process.poll() is not None or time.perf_counter() - started > GIVE_UP_S:
                with log.open("rb") as logged:
                    logged.seek(logged_before)
                    this_start = logged.read().decode(errors="replace")
                raise ColdStartError(
                    f"{protocol} gave no predict (exit code {process.poll()}):\n"
                    f"{this_start[-2000:]}"
                )
            time.sleep(POLL_S)
        return time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(
    protocols: Sequence[Protocol],
    starts: int,
    workdir: Path,
    on_start: Callable[[int, int, str], None] = lambda _i, _n, _label: None,
    trained: Path | None = None,
) -> dict[str, Any]:
    """Every protocol × condition, ``starts`` times; seconds per start, and their median.
    ``trained``: a models folder to start from (default: trained here, in ``workdir``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    if trained is None:
        trained = workdir / "models"
        ModelRegistry(trained).load()
    seconds: dict[str, dict[str, list[float]]] = {p: {c: [] for c in CONDITIONS} for p in protocols}
    plan = list(itertools.product(range(starts), protocols, CONDITIONS))
    for i, (_, protocol, condition) in enumerate(plan):
        on_start(i, len(plan), f"{protocol} · {condition}")
        log = workdir / f"{protocol}.log"
        if condition == "models_on_disk":
            seconds[protocol][condition].append(time_one_start(protocol, trained, log))
            continue
        with tempfile.TemporaryDirectory(dir=workdir) as empty:
            seconds[protocol][condition].append(time_one_start(protocol, Path(empty), log))
    return {
        "starts": starts,
        "seconds": seconds,
        "median_s": {
            p: {c: statistics.median(v) for c, v in by.items()} for p, by in seconds.items()
        },
    }
