"""What a prediction costs the replica that serves it: the capacity-limited model.

A real model runs on a fixed pool (a few cores, one GPU): at most K predictions at a time,
each holding a worker for its service time, the rest waiting in arrival order. Emulated with
``model_workers`` K and ``model_service_ms`` S, a replica then serves at most K × 1000 / S
predictions per second while waiting costs it no CPU — so several replicas on a 2-core
machine each bring their full capacity, and the load generator keeps its headroom.

``model_cpu_ms`` is the other kind of model: each prediction burns that much CPU time of the
thread serving it (a CPU-bound model), so a replica's capacity is the CPU it is given
(``--replica-cpus``) divided by the CPU seconds each request costs.

One queue serves thread-pool servers (gRPC: ``run``) and event-loop servers (REST, GraphQL,
JSON-RPC: ``arun``) alike; a waiter is woken by handing it the worker, so nobody who arrives
later can take a worker before it (FIFO, no barging).

Service times follow a single-server queue's clock, not the wake-ups of the threads that wait:
a call that arrives at ``a`` on a worker free since ``f`` starts at ``max(a, f)`` and ends S
later, and the worker is handed on as free at that planned end. A busy machine that wakes the
next waiter a few milliseconds late therefore does not stretch every service time (measured:
32 users on one 10 ms worker took 5.5 s for 320 calls, not 3.2 s, with a wake-up-based hold at a
load average of 17); the waiter that was woken late simply sleeps less.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class WorkerStats:
    """Workers busy and calls queued now, their peaks since start, and predictions served."""

    workers: int
    busy: int
    queued: int
    peak_busy: int
    peak_queued: int
    served: int


class _Waiter:
    """A call waiting for a worker; ``granted`` is set (under the pool's lock) when handed one,
    with ``free_at``, when that worker's previous call (planned) ended."""

    __slots__ = ("event", "free_at", "future", "granted", "loop")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        future: asyncio.Future[None] | None = None,
    ) -> None:
        self.granted = False
        self.free_at = 0.0
        self.loop, self.future = loop, future
        self.event = threading.Event() if future is None else None

    def wake(self) -> bool:
        """Hand over the worker; False when the waiter can no longer take it (loop closed)."""
        if self.event is not None:
            self.event.set()
            return True
        assert self.loop is not None and self.future is not None
        try:
            self.loop.call_soon_threadsafe(_resolve, self.future)
        except RuntimeError:  # the waiter's event loop is closed: its server is gone
            return False
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class FifoWorkers:
    """K workers shared by threads and event loops; beyond K, callers wait first come first
    served. ``acquire``/``aacquire`` return when the worker got free (``time.monotonic``), then
    ``release(free_at)``; a cancelled async waiter gives back a worker it was already handed."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("at least one worker")
        self.workers = workers
        self._lock = threading.Lock()
        self._free: deque[float] = deque([0.0] * workers)  # each free worker's free-since
        self._queue: deque[_Waiter] = deque()
        self._peak_busy = self._peak_queued = self._served = 0

    def stats(self) -> WorkerStats:
        with self._lock:
            return WorkerStats(
                self.workers,
                self.workers - len(self._free),
                len(self._queue),
                self._peak_busy,
                self._peak_queued,
                self._served,
            )

    def _take_or_queue(self, waiter_factory: Callable[[], _Waiter]) -> float | _Waiter:
        """Under the lock: a free worker's free-since, or the caller's place in the queue."""
        if self._free and not self._queue:
            free_at = self._free.popleft()
            self._peak_busy = max(self._peak_busy, self.workers - len(self._free))
            return free_at
        waiter = waiter_factory()
        self._queue.append(waiter)
        self._peak_queued = max(self._peak_queued, len(self._queue))
        return waiter

    def acquire(self) -> float:
        with self._lock:
            taken = self._take_or_queue(_Waiter)
        if isinstance(taken, float):
            return taken
        assert taken.event is not None
        taken.event.wait()
        return taken.free_at

    async def aacquire(self) -> float:
        loop = asyncio.get_running_loop()
        with self._lock:
            taken = self._take_or_queue(lambda: _Waiter(loop, loop.create_future()))
        if isinstance(taken, float):
            return taken
        assert taken.future is not None
        try:
            await taken.future
        except asyncio.CancelledError:  # the client went away while waiting
            with self._lock:
                if taken.granted:
                    self._release_locked(taken.free_at)
                else:
                    self._queue.remove(taken)
            raise
        return taken.free_at

    def release(self, free_at: float = 0.0) -> None:
        """Give the worker back, free since ``free_at`` (its call's planned end)."""
        with self._lock:
            self._served += 1
            self._release_locked(free_at)

    def _release_locked(self, free_at: float) -> None:
        """Hand the worker to the longest waiter that can take it, else free it."""
        while self._queue:
            waiter = self._queue.popleft()
            waiter.granted, waiter.free_at = True, free_at
            if waiter.wake():
                return
        self._free.append(free_at)


class ModelCost:
    """Runs a prediction's computation the way the configured model would: on one of K
    workers (if limited), burning ``cpu_s`` of thread CPU time, holding the worker until
    ``service_s`` has passed since it was taken. With nothing configured, just the call."""

    def __init__(self, workers: int = 0, service_s: float = 0.0, cpu_s: float = 0.0) -> None:
        self.pool = FifoWorkers(workers) if workers else None
        self.service_s = service_s
        self.cpu_s = cpu_s
        # Nothing configured: the service calls the computation directly, at no cost.
        self.configured = bool(workers or service_s or cpu_s)

    @property
    def capacity_per_s(self) -> float | None:
        """K / S predictions per second, when both are set (the replica's ceiling)."""
        if self.pool is None or not self.service_s:
            return None
        return self.pool.workers / self.service_s

    @property
    def min_s(self) -> float:
        """The least time one prediction takes, queueing aside (for deadline checks)."""
        return max(self.service_s, self.cpu_s)

    def run(self, compute: Callable[[], T]) -> T:
        arrived = time.monotonic()
        if self.pool is None:
            result, end = self._compute(compute, arrived)
            _sleep_until(end)
            return result
        start = max(arrived, self.pool.acquire())
        end = start
        try:
            result, end = self._compute(compute, start)
            _sleep_until(end)
            return result
        finally:
            self.pool.release(end)

    async def arun(self, compute: Callable[[], T]) -> T:
        arrived = time.monotonic()
        if self.pool is None:
            result, end = self._compute(compute, arrived)
            await _asleep_until(end)
            return result
        start = max(arrived, await self.pool.aacquire())
        end = start
        try:
            result, end = self._compute(compute, start)
            await _asleep_until(end)
            return result
        finally:
            self.pool.release(end)

    def _compute(self, compute: Callable[[], T], start: float) -> tuple[T, float]:
        """The answer, and when the call ends: S after its start, or when the work is done
        if that is later (a CPU-bound model on a busy machine)."""
        result = compute()
        if self.cpu_s:
            burn_cpu(self.cpu_s)
        return result, max(start + self.service_s, time.monotonic())


def _sleep_until(end: float) -> None:
    if (left := end - time.monotonic()) > 0:
        time.sleep(left)


async def _asleep_until(end: float) -> None:
    if (left := end - time.monotonic()) > 0:
        await asyncio.sleep(left)


def burn_cpu(seconds: float) -> None:
    """Spin until this thread has used ``seconds`` of CPU time (not wall time: under a CPU
    quota or a busy machine the wait is longer, the work the same)."""
    end = time.thread_time() + seconds
    x = 1.0
    while time.thread_time() < end:
        for _ in range(200):
            x = x * 1.0000001 + 1e-9
