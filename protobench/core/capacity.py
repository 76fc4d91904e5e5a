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
    """A call waiting for a worker; ``granted`` is set (under the pool's lock) when handed one."""

    __slots__ = ("event", "future", "granted", "loop")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        future: asyncio.Future[None] | None = None,
    ) -> None:
        self.granted = False
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
    served. ``acquire``/``aacquire`` then ``release``; a cancelled async waiter gives back a
    worker it was already handed."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("at least one worker")
        self.workers = workers
        self._lock = threading.Lock()
        self._free = workers
        self._queue: deque[_Waiter] = deque()
        self._peak_busy = self._peak_queued = self._served = 0

    def stats(self) -> WorkerStats:
        with self._lock:
            return WorkerStats(
                self.workers,
                self.workers - self._free,
                len(self._queue),
                self._peak_busy,
                self._peak_queued,
                self._served,
            )

    def _take_or_queue(self, waiter_factory: Callable[[], _Waiter]) -> _Waiter | None:
        """Under the lock: a free worker (None returned) or the caller's place in the queue."""
        if self._free and not self._queue:
            self._free -= 1
            self._peak_busy = max(self._peak_busy, self.workers - self._free)
            return None
        waiter = waiter_factory()
        self._queue.append(waiter)
        self._peak_queued = max(self._peak_queued, len(self._queue))
        return waiter

    def acquire(self) -> None:
        with self._lock:
            waiter = self._take_or_queue(_Waiter)
        if waiter is not None:
            assert waiter.event is not None
            waiter.event.wait()

    async def aacquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            waiter = self._take_or_queue(lambda: _Waiter(loop, loop.create_future()))
        if waiter is None:
            return
        assert waiter.future is not None
        try:
            await waiter.future
        except asyncio.CancelledError:  # the client went away while waiting
            with self._lock:
                if waiter.granted:
                    self._release_locked()
                else:
                    self._queue.remove(waiter)
            raise

    def release(self) -> None:
        with self._lock:
            self._served += 1
            self._release_locked()

    def _release_locked(self) -> None:
        """Hand the worker to the longest waiter that can take it, else free it."""
        while self._queue:
            waiter = self._queue.popleft()
            waiter.granted = True
            if waiter.wake():
                return
        self._free += 1


class ModelCost:
    """Runs a prediction's computation the way the configured model would: on one of K
    workers (if limited), burning ``cpu_s`` of thread CPU time, holding the worker until
    ``service_s`` has passed since it was taken. With nothing configured, just the call."""

    def __init__(self, workers: int = 0, service_s: float = 0.0, cpu_s: float = 0.0) -> None:
        self.pool = FifoWorkers(workers) if workers else None
        self.service_s = service_s
        self.cpu_s = cpu_s

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
        if self.pool is None:
            return self._timed(compute)
        self.pool.acquire()
        try:
            return self._timed(compute)
        finally:
            self.pool.release()

    async def arun(self, compute: Callable[[], T]) -> T:
        if self.pool is None:
            return await self._atimed(compute)
        await self.pool.aacquire()
        try:
            return await self._atimed(compute)
        finally:
            self.pool.release()

    def _timed(self, compute: Callable[[], T]) -> T:
        started = time.monotonic()
        result = self._compute(compute)
        if (left := self.service_s - (time.monotonic() - started)) > 0:
            time.sleep(left)
        return result

    async def _atimed(self, compute: Callable[[], T]) -> T:
        started = time.monotonic()
        result = self._compute(compute)
        if (left := self.service_s - (time.monotonic() - started)) > 0:
            await asyncio.sleep(left)
        return result

    def _compute(self, compute: Callable[[], T]) -> T:
        result = compute()
        if self.cpu_s:
            burn_cpu(self.cpu_s)
        return result


def burn_cpu(seconds: float) -> None:
    """Spin until this thread has used ``seconds`` of CPU time (not wall time: under a CPU
    quota or a busy machine the wait is longer, the work the same)."""
    end = time.thread_time() + seconds
    x = 1.0
    while time.thread_time() < end:
        for _ in range(200):
            x = x * 1.0000001 + 1e-9
