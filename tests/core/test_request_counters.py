"""The service counts every call per operation and outcome, from any number of threads."""

from __future__ import annotations

import asyncio
import threading

import pytest

from protobench.core.errors import CoreError
from protobench.core.service import InferenceService, RequestCounters

SETOSA = [5.1, 3.5, 1.4, 0.2]


def test_calls_are_counted_by_operation_and_outcome(service: InferenceService) -> None:
    service.predict("iris", [SETOSA])
    asyncio.run(service.apredict("iris", [SETOSA]))
    with pytest.raises(CoreError):
        service.predict("no-such-model", [SETOSA])
    service.health()
    service.list_models()
    with pytest.raises(CoreError):
        service.get_model("no-such-model")

    assert service.counters.snapshot() == {
        ("predict", "ok"): 2,
        ("predict", "error"): 1,
        ("health", "ok"): 1,
        ("list_models", "ok"): 1,
        ("get_model", "error"): 1,
    }


def test_counting_is_thread_safe() -> None:
    counters = RequestCounters()
    threads_n, calls_n = 8, 5000

    def bump() -> None:
        for _ in range(calls_n):
            counters.add("predict", "ok")

    threads = [threading.Thread(target=bump) for _ in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counters.snapshot() == {("predict", "ok"): threads_n * calls_n}


def test_snapshot_is_a_copy() -> None:
    counters = RequestCounters()
    counters.add("predict", "ok")
    snapshot = counters.snapshot()
    counters.add("predict", "ok")
    assert snapshot == {("predict", "ok"): 1}
