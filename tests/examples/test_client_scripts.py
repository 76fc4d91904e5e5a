"""The copyable client scripts in examples/clients/: each runs against a real server of its
protocol, and none leans on this project's own packages.

A script's protocol is its file name's first part (``rest_requests.py`` -> ``rest``; a protocol
with a dash, ``oip-rest``, is written with an underscore, ``oip_rest_...``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from protobench.protocols import PROTOCOLS
from tests.support.servers import running_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "clients"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
OWN_PACKAGES = {"protobench", "clients", "servers", "loadtests", "tests"}
FLOWER = "[5.1, 3.5, 1.4, 0.2]"
MAX_LINES = 90  # "about 80": they are for reading


def protocol_of(script: Path) -> str:
    """The longest registered protocol whose underscored name prefixes the file name."""
    names = [p for p in PROTOCOLS if script.stem.startswith(p.replace("-", "_") + "_")]
    assert names, f"{script.name} does not start with a protocol name from {PROTOCOLS}"
    return max(names, key=len)


def imported_roots(script: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(script.read_text(), filename=str(script))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                roots.add(first.value.split(".")[0])
    return roots


def test_every_protocol_has_a_script() -> None:
    covered = {protocol_of(script) for script in SCRIPTS}
    assert covered == set(PROTOCOLS)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_imports_nothing_of_ours_and_stays_short(script: Path) -> None:
    roots = imported_roots(script)
    assert not roots & OWN_PACKAGES, f"{script.name} imports {sorted(roots & OWN_PACKAGES)}"
    assert len(script.read_text().splitlines()) <= MAX_LINES


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_runs_against_a_real_server(script: Path, models_dir: Path, tmp_path: Path) -> None:
    protocol = protocol_of(script)
    with running_server(protocol, tmp_path / "server", models_dir) as server:  # type: ignore[arg-type]
        run = subprocess.run(
            [sys.executable, str(script), server.target],
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip
        assert server.process.poll() is None, f"the server died:\n{server.log()}"
    assert run.returncode == 0, f"{script.name} failed:\n{run.stdout}\n{run.stderr}"
    # The first prediction is always this flower, and the answer names its species.
    flower = [line for line in run.stdout.splitlines() if FLOWER in line]
    assert flower and "setosa" in flower[0], run.stdout
