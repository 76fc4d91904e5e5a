"""Every server starts through ``protobench.cli`` (the launcher and the tests run ``python -m
protobench.cli serve``), so what the command line imports before it dispatches is paid by every
replica: a command's heavy libraries load when that command runs, not when the parser is built
(0.42 s of CPU per REST server start, docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys

# libraries only some commands need: load tests, the report's statistics (2.1 s of CPU), tables
# (rich), balancers, other protocols' frameworks
NOT_FOR_EVERY_COMMAND = (
    "graphql",
    "httpx",
    "locust",
    "loadtests.remote",
    "rich",
    "scipy.stats",
    "servers.balancers",
)


def test_building_the_command_line_loads_no_command_s_libraries() -> None:
    probe = (
        "import sys; from protobench.cli import build_parser; build_parser(); "
        f"print(','.join(m for m in {NOT_FOR_EVERY_COMMAND!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert loaded == "", f"protobench.cli loads {loaded} before any command runs"


def test_a_server_loads_sqlalchemy_only_when_it_reads_stored_predictions() -> None:
    """The prediction store's SQL engine (0.45 s of CPU) is for batch results, which most
    servers never read."""
    probe = (
        "import sys; from protobench.core.service import InferenceService; "
        "print('sqlalchemy' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert loaded == "False", "importing the service loads SQLAlchemy"
