"""Exact per-request samples: every latency kept, so percentiles are exact, not bucketed.

Each generator process records into its own ``Samples`` and writes one ``.npz`` file when the
test stops (a Locust worker sends them to its master, which writes them: see
``loadtests.distributed_events``); the runner merges the files of all processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

OK = ""


@dataclass
class Samples:
    """Times are seconds since the epoch (``time.time``-based) so processes can be merged."""

    intended: list[float] = field(default_factory=list)  # when the request should have left
    sent: list[float] = field(default_factory=list)  # when it actually left
    done: list[float] = field(default_factory=list)  # when its answer (or error) arrived
    predictions: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "" for success, else the ErrorCode

    def add(self, intended: float, sent: float, done: float, predictions: int, error: str) -> None:
        self.intended.append(intended)
        self.sent.append(sent)
        self.done.append(done)
        self.predictions.append(predictions)
        self.errors.append(error)

    def save(self, folder: Path, tag: str | None = None) -> Path | None:
        """Write ``samples-<tag>.npz`` (default tag: this process's id); None if empty."""
        if not self.sent:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"samples-{tag or os.getpid()}.npz"
        np.savez_compressed(
            path,
            intended=np.array(self.intended),
            sent=np.array(self.sent),
            done=np.array(self.done),
            predictions=np.array(self.predictions, dtype=np.int64),
            errors=np.array(self.errors, dtype=str),
        )
        return path


@dataclass(frozen=True)
class SampleArrays:
    intended: NDArray[np.float64]
    sent: NDArray[np.float64]
    done: NDArray[np.float64]
    predictions: NDArray[np.int64]
    errors: NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.sent)

    def window(self, start: float, end: float) -> SampleArrays:
        """Requests intended to leave in [start, end): warm-up and cool-down are cut off."""
        keep = (self.intended >= start) & (self.intended < end)
        return SampleArrays(
            self.intended[keep],
            self.sent[keep],
            self.done[keep],
            self.predictions[keep],
            self.errors[keep],
        )


def load_samples(folder: Path) -> SampleArrays:
    parts = [np.load(p, allow_pickle=False) for p in sorted(folder.glob("samples-*.npz"))]
    if not parts:
        empty = np.array([], dtype=np.float64)
        return SampleArrays(
            empty, empty, empty, np.array([], dtype=np.int64), np.array([], dtype=str)
        )
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0].files}
    order = np.argsort(merged["intended"], kind="stable")
    return SampleArrays(**{k: v[order] for k, v in merged.items()})
