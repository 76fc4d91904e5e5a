"""The capacity-limited model: at most K at a time, FIFO beyond K, from threads and event
loops alike; a worker held S ms; the CPU-bound model burns CPU time. No upper time bounds:
sleeping cannot be faster than asked, so only lower bounds are asserted."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from protobench.core.capacity import FifoWorkers, ModelCost, burn_cpu
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.core.settings import Settings

WAIT_S = 10.0


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.002)


def test_at_most_k_at_a_time_and_all_k_used() -> None:
    cost = ModelCost(workers=3, service_s=0.02)
    lock, inside, peak = threading.Lock(), [0], [0]

    def compute() -> None:
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        time.sleep(0.005)
        with lock:
            inside[0] -= 1

    threads = [threading.Thread(target=cost.run, args=(compute,)) for _ in range(12)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] <= 3
    assert cost.pool is not None
    stats = cost.pool.stats()
    assert (stats.busy, stats.queued, stats.served) == (0, 0, 12)
    assert stats.peak_busy == 3 and stats.peak_queued >= 1
    assert time.monotonic() - started >= 4 * 0.02  # 12 calls on 3 workers: 4 rounds of S


def test_threads_are_served_in_arrival_order() -> None:
    cost = ModelCost(workers=1, service_s=0.01)
    assert cost.pool is not None
    pool = cost.pool
    gate = threading.Event()
    order: list[int] = []
    first = threading.Thread(target=cost.run, args=(gate.wait,))
    first.start()
    _until(lambda: pool.stats().busy == 1)
    waiting = []
    for i in range(6):
        thread = threading.Thread(target=cost.run, args=(lambda i=i: order.append(i),))
        thread.start()
        _until(lambda i=i: pool.stats().queued == i + 1)  # i + 1 queued: arrival order is known
        waiting.append(thread)
    gate.set()
    for thread in [first, *waiting]:
        thread.join()
    assert order == list(range(6))


def test_event_loop_and_threads_share_one_fifo_queue() -> None:
    cost = ModelCost(workers=1, service_s=0.005)
    assert cost.pool is not None
    pool = cost.pool
    order: list[str] = []
    gate = threading.Event()
    holder = threading.Thread(target=cost.run, args=(gate.wait,))
    holder.start()
    _until(lambda: pool.stats().busy == 1)

    async def main() -> None:
        tasks = []
        for i in range(4):
            if i % 2:
                name = f"thread-{i}"
                threading.Thread(target=cost.run, args=(lambda n=name: order.append(n),)).start()
            else:
                name = f"task-{i}"
                tasks.append(asyncio.create_task(cost.arun(lambda n=name: order.append(n))))
            while pool.stats().queued < i + 1:
                await asyncio.sleep(0.002)
        gate.set()
        await asyncio.gather(*tasks)
        while pool.stats().served < 5:
            await asyncio.sleep(0.002)

    asyncio.run(main())
    holder.join()
    assert order == ["task-0", "thread-1", "task-2", "thread-3"]


def test_a_cancelled_waiter_leaves_no_worker_behind() -> None:
    pool = FifoWorkers(1)

    async def main() -> None:
        await pool.aacquire()
        queued = asyncio.create_task(pool.aacquire())
        await asyncio.sleep(0.01)
        queued.cancel()  # cancelled while waiting: leaves the queue
        with pytest.raises(asyncio.CancelledError):
            await queued
        handed = asyncio.create_task(pool.aacquire())
        await asyncio.sleep(0.01)
        pool.release()  # hands the worker to `handed`...
        handed.cancel()  # ...which is cancelled before it runs: it must give it back
        with pytest.raises(asyncio.CancelledError):
            await handed
        await asyncio.wait_for(pool.aacquire(), timeout=WAIT_S)
        pool.release()

    asyncio.run(main())
    stats = pool.stats()
    assert (stats.busy, stats.queued) == (0, 0)


def test_a_worker_is_held_for_the_service_time() -> None:
    cost = ModelCost(workers=1, service_s=0.05)
    started = time.monotonic()

    async def main() -> None:
        await asyncio.gather(*(cost.arun(lambda: None) for _ in range(4)))

    asyncio.run(main())
    assert time.monotonic() - started >= 4 * 0.05


def test_cpu_bound_model_burns_cpu_time() -> None:
    started = time.thread_time()
    burn_cpu(0.03)
    assert time.thread_time() - started >= 0.03
    assert ModelCost(cpu_s=0.02).min_s == 0.02


def test_capacity_is_k_over_s() -> None:
    assert ModelCost(workers=2, service_s=0.01).capacity_per_s == pytest.approx(200.0)
    assert ModelCost(workers=2).capacity_per_s is None
    assert ModelCost().pool is None


def test_service_time_needs_workers(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="model_workers"):
        Settings(models_dir=tmp_path, model_service_ms=10)


def test_service_answers_through_the_workers_and_bad_input_takes_none(
    models_dir: Path,
) -> None:
    service = InferenceService(
        Settings(models_dir=models_dir, model_workers=1, model_service_ms=20)
    )
    service.load()
    pool = service.model_cost.pool
    assert pool is not None
    assert service.min_predict_s == pytest.approx(0.02)
    with pytest.raises(CoreError) as exc:
        service.predict("iris", [[1.0, 2.0]])
    assert exc.value.code == ErrorCode.INVALID_INPUT
    assert pool.stats().served == 0
    answer = service.predict("iris", [[5.1, 3.5, 1.4, 0.2]])
    assert answer.predictions[0].label == "setosa"
    assert asyncio.run(service.apredict("iris", [[5.1, 3.5, 1.4, 0.2]])).predictions
    assert pool.stats().served == 2


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--model-service-ms", "10"],
        ["serve", "--replicas", "2", "--model-service-ms", "10"],
        ["bench", "--model-service-ms", "10"],
    ],
)
def test_service_time_without_workers_is_refused_before_anything_starts(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from protobench.cli import main

    assert main(command) == 2
    assert "set model_workers too" in capsys.readouterr().err


def test_a_late_wake_up_does_not_stretch_the_service_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue keeps its own clock: a call queued at t0 behind a worker planned free at
    t0 + 10 ms ends at t0 + 60 ms, even when the worker is handed over much later — it then
    computes and returns without sleeping, instead of holding the worker another S."""
    import protobench.core.capacity as capacity

    cost = ModelCost(workers=1, service_s=0.05)
    assert cost.pool is not None
    pool = cost.pool
    pool.acquire()  # the worker is busy
    slept: list[tuple[str, float]] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        slept.append((threading.current_thread().name, seconds))
        real_sleep(seconds)

    monkeypatch.setattr(capacity.time, "sleep", sleep)
    arrived = time.monotonic()
    waiter = threading.Thread(target=cost.run, args=(lambda: None,), name="late-waiter")
    waiter.start()
    _until(lambda: pool.stats().queued == 1)
    real_sleep(0.1)  # the handover comes long after the planned end
    pool.release(arrived + 0.01)
    waiter.join()
    assert [s for name, s in slept if name == "late-waiter"] == []
