"""What a deployment strategy adds to one prediction, and how fast a batch job stores rows.

In process, no network: the core's ``predict`` on one iris row under each strategy (the
shadow's copy is scored on its background thread, so its cost shows only as competition for
the GIL), then ``protobench batch``'s job over a CSV of iris rows into SQLite (and into
PostgreSQL when ``--postgres-url`` is given), per chunk size.

    flock /tmp/protobench-bench.lock .venv/bin/python benchmarks/strategies_cost.py

About a minute. Numbers go to docs/strategies.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris

from protobench.core.batch_job import run_job
from protobench.core.service import InferenceService
from protobench.core.settings import Settings, default_models_dir
from protobench.core.sql_store import PredictionStore
from protobench.core.types import StrategyConfig

STRATEGIES = {
    "none (version named)": None,
    "single": StrategyConfig(),
    "shadow": StrategyConfig(kind="shadow", versions=["1", "2"]),
    "ab (caller key)": StrategyConfig(kind="ab", versions=["1", "2"]),
    "canary 10 %": StrategyConfig(kind="canary", versions=["1", "2"]),
    "bandit epsilon": StrategyConfig(kind="bandit", versions=["1", "2"]),
    "bandit thompson": StrategyConfig(kind="bandit", versions=["1", "2"], bandit="thompson"),
}


def per_call_us(
    service: InferenceService, config: StrategyConfig | None, calls: int
) -> list[float]:
    row = [load_iris().data[0].tolist()]
    if config is not None:
        service.set_strategy("iris", config)
    version = "2" if config is None else None
    caller = "user-1" if config is not None and config.kind == "ab" else None
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        service.predict("iris", row, version, caller)
        samples.append((time.perf_counter() - started) * 1e6)
    service.strategies.drain_shadow()
    return samples


def batch_rate(service: InferenceService, url: str, source: Path, chunk: int) -> float:
    store = PredictionStore(url)
    job = f"bench-{chunk}-{time.time_ns()}"
    started = time.perf_counter()
    result = run_job(service, store, model="iris", source=source, job=job, chunk=chunk)
    return result.written / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--postgres-url", help="also measure the batch job into PostgreSQL")
    args = parser.parse_args()

    service = InferenceService(Settings(models_dir=default_models_dir()))
    service.load()
    print(f"one-row predict, in process, {args.calls} calls each (µs)")
    print(f"{'strategy':<22}{'p50':>8}{'p99':>8}{'mean':>8}")
    for name, config in STRATEGIES.items():
        per_call_us(service, config, 2000)  # warm up
        samples = per_call_us(service, config, args.calls)
        p50, p99 = np.percentile(samples, [50, 99])
        print(f"{name:<22}{p50:8.1f}{p99:8.1f}{statistics.fmean(samples):8.1f}")

    service.set_strategy("iris", StrategyConfig())
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "iris.csv"
        data = np.tile(load_iris().data, (args.rows // 150 + 1, 1))[: args.rows]
        lines = ["sepal_length,sepal_width,petal_length,petal_width"]
        lines += [",".join(map(str, row)) for row in data]
        source.write_text("\n".join(lines) + "\n")
        targets = {"sqlite": f"sqlite:///{folder}/p.db"}
        if args.postgres_url:
            targets["postgresql"] = args.postgres_url
        print(f"\nbatch job, {args.rows} iris rows (rows stored per second)")
        for label, url in targets.items():
            for chunk in (100, 500, 1000):
                rate = batch_rate(service, url, source, chunk)
                print(f"{label:<12} chunk {chunk:>5}: {rate:>9,.0f}")


if __name__ == "__main__":
    main()
