"""What a new user meets at the command line: help on every option, ports checked before
anything starts, output that survives a pipe, and an unknown job said as such."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from rich.table import Table

from protobench.cli import build_parser, main
from protobench.commands.common import show
from tests.support.servers import running_server


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_option_of_every_command_explains_itself() -> None:
    missing = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, command in _commands().items()
        for action in command._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert missing == []


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--protocol", "grpc", "--port", "70000"],
        ["serve", "--protocol", "rest", "--port", "99999"],
        ["serve", "--metrics-port", "-1"],
        ["serve", "--port-file", "/no/such/folder/port"],
    ],
)
def test_ports_and_files_are_checked_when_parsed(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("protobench serve: error: argument --") and "Traceback" not in last


def test_piped_tables_are_never_wrapped_or_cut(capsys: pytest.CaptureFixture[str]) -> None:
    table = Table(title="digits")
    for i in range(10):
        table.add_column(f"p({i})")
    table.add_row(*(f"{i / 10:.4f}" for i in range(10)))
    line = "try:    protobench predict --protocol grpc --target 127.0.0.1:65535 " + "x" * 80
    show(table)
    show(line)
    out = capsys.readouterr().out  # not a terminal: rich would assume 80 columns
    assert "…" not in out and all(f"{i / 10:.4f}" in out for i in range(10))
    assert line in out.splitlines()


@pytest.mark.jsonrpc
def test_unknown_job_and_a_closed_pipe(
    models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_server("jsonrpc", tmp_path, models_dir) as server:
        at = ["--protocol", "jsonrpc", "--target", server.target]
        assert main(["predictions", *at, "--job", "nojob"]) == 1
        assert "unknown job 'nojob'" in capsys.readouterr().err
        command = [sys.executable, "-m", "protobench.cli", "models", *at, "--json"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # the reader is gone before the first byte: `| head -0`
        err = process.stderr.read().decode()
        assert process.wait(30) == 141, err
        assert err == ""
