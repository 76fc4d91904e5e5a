"""The strategy, feedback, predictions and batch commands against a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from protobench.cli import main
from tests.support.servers import running_server


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.jsonrpc
def test_commands_drive_a_server(
    models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "flowers.csv"
    source.write_text("a,b,c,d\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
    url = f"sqlite:///{tmp_path / 'p.db'}"
    batch = ["batch", "--model", "iris", "--input", str(source), "--out", url, "--quiet"]
    assert main([*batch, "--models-dir", str(models_dir), "--job", "cli"]) == 0
    assert "2 written" in capsys.readouterr().out
    env = {"PROTOBENCH_PREDICTIONS_DB": url}
    with running_server("jsonrpc", tmp_path, models_dir, env=env) as server:
        at = ["--protocol", "jsonrpc", "--target", server.target]
        status = _json(capsys, "strategy", *at, "--set", "bandit", "--versions", "1,2",
                       "--bandit", "thompson", "--seed", "3")  # fmt: skip
        assert isinstance(status, dict) and status["strategy"]["bandit"] == "thompson"
        answer = _json(capsys, "predict", *at, "--features", "5.1,3.5,1.4,0.2", "--caller", "a")
        assert isinstance(answer, dict) and answer["arm"] == "bandit:sample"
        reward = _json(capsys, "feedback", *at, "--id", answer["prediction_id"], "--reward", "1")
        assert isinstance(reward, dict) and reward["version"] == answer["version"]
        rows = _json(capsys, "predictions", *at, "--job", "cli")
        assert isinstance(rows, list) and [r["label"] for r in rows] == ["setosa", "virginica"]
        assert main(["strategy", *at, "--rollback"]) == 1  # a bandit has no candidate
        assert "FAILED_PRECONDITION" in capsys.readouterr().err
