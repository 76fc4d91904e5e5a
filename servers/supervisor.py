"""Restarting replicas that die, so a cluster heals without anyone watching it."""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

log = logging.getLogger(__name__)

POLL_S = 0.2
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0


class Supervised(Protocol):
    def exited(self) -> list[str]:
        """Names of the replicas whose process has exited."""
        ...

    def restart(self, name: str) -> None:
        """Start the replica again under the same name (and port) and wait until it is ready;
        raise if it does not come up."""
        ...


class Supervisor:
    """Polls for exited replicas from a thread and restarts them; a replica that fails to come
    back is retried with exponential backoff (0.5 s doubling to 10 s), never given up on."""

    def __init__(self, cluster: Supervised) -> None:
        self._cluster = cluster
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="protobench-supervisor", daemon=True)
        self._backoff: dict[str, float] = {}
        self._next_try: dict[str, float] = {}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(POLL_S):
            for name in self._cluster.exited():
                if self._stopping.is_set() or time.monotonic() < self._next_try.get(name, 0.0):
                    continue
                self._restart(name)

    def _restart(self, name: str) -> None:
        log.warning("protobench: %s exited; restarting it", name)
        try:
            self._cluster.restart(name)
        except Exception as exc:  # a failed restart is retried later, whatever the cause
            delay = min(MAX_BACKOFF_S, 2 * self._backoff.get(name, FIRST_BACKOFF_S / 2))
            self._backoff[name] = delay
            self._next_try[name] = time.monotonic() + delay
            if not self._stopping.is_set():
                log.warning("protobench: %s did not come back (%s); retrying in %.1fs",
                            name, exc, delay)  # fmt: skip
            return
        self._backoff.pop(name, None)
        self._next_try.pop(name, None)
        log.warning("protobench: %s is back", name)
