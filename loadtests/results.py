"""Where results go: one JSON document per run, and every run in one SQLite database.

``OUT/<run-id>/results.json`` holds the manifest, the configuration and every cell;
``OUT/<run-id>/cells/<cell>/`` keeps Locust's own CSVs and the raw samples;
``OUT/results.db`` accumulates all runs so later reports can compare them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    command TEXT NOT NULL,
    manifest TEXT NOT NULL,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cells (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    cell_id TEXT NOT NULL,
    protocol TEXT NOT NULL,
    replicas INTEGER NOT NULL,
    balancer TEXT NOT NULL,
    model TEXT NOT NULL,
    users INTEGER NOT NULL,
    rate REAL,
    batch INTEGER NOT NULL,
    payload TEXT NOT NULL,
    repeat INTEGER NOT NULL,
    requests_per_s REAL,
    predictions_per_s REAL,
    p50_ms REAL, p90_ms REAL, p99_ms REAL, p999_ms REAL, max_ms REAL,
    corrected_p99_ms REAL,
    errors INTEGER NOT NULL,
    flags TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, cell_id)
);
"""


def write_run(out: Path, run_id: str, document: dict[str, Any]) -> Path:
    """Write the run's JSON and add it to ``out/results.db``; returns the JSON path."""
    folder = out / run_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    path.write_text(json.dumps(document, indent=2, sort_keys=False))
    with sqlite3.connect(out / "results.db") as db:
        db.executescript(SCHEMA)
        manifest = document["manifest"]
        db.execute(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?)",
            (run_id, manifest["started_at"], manifest["command"], json.dumps(manifest),
             json.dumps(document["config"])),
        )  # fmt: skip
        for cell in document["cells"]:
            latency = cell["latency_ms"]
            db.execute(
                "INSERT OR REPLACE INTO cells VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id, cell["cell_id"], cell["protocol"], cell["replicas"],
                    cell["balancer"], cell["model"], cell["users"], cell["rate"], cell["batch"],
                    cell["payload"], cell["repeat"], cell["requests_per_s"],
                    cell["predictions_per_s"], latency["p50"], latency["p90"], latency["p99"],
                    latency["p999"], latency["max"], cell["latency_corrected_ms"]["p99"],
                    sum(cell["errors"].values()), ",".join(cell["flags"]), json.dumps(cell),
                ),
            )  # fmt: skip
    return path


def load_run(path: Path) -> dict[str, Any]:
    """A run's document from its folder, its results.json, or the newest run in an out dir."""
    if path.is_dir() and not (path / "results.json").exists():
        runs = sorted(path.glob("*/results.json"))
        if not runs:
            raise FileNotFoundError(f"no results.json under {path}; run `protobench bench` first")
        path = runs[-1]
    elif path.is_dir():
        path = path / "results.json"
    document: dict[str, Any] = json.loads(path.read_text())
    return document
