"""The supervisor's retry logic, without processes: a replica that fails to come back is
retried with growing delays until it does."""

from __future__ import annotations

import time

from servers import supervisor
from servers.supervisor import Supervisor


class FlakyCluster:
    """One replica, dead, whose restart fails ``failures`` times before it works."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[float] = []
        self.alive = False

    def exited(self) -> list[str]:
        return [] if self.alive else ["replica-0"]

    def restart(self, name: str) -> None:
        self.attempts.append(time.monotonic())
        if len(self.attempts) <= self.failures:
            raise RuntimeError("did not come up")
        self.alive = True


def test_failed_restarts_are_retried_with_backoff() -> None:
    cluster = FlakyCluster(failures=2)
    watcher = Supervisor(cluster)
    watcher.start()
    deadline = time.monotonic() + 10
    while not cluster.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop()
    assert cluster.alive and len(cluster.attempts) == 3
    first, second, third = cluster.attempts
    first_wait, second_wait = second - first, third - second
    assert first_wait >= supervisor.FIRST_BACKOFF_S
    assert second_wait >= 2 * supervisor.FIRST_BACKOFF_S


def test_nothing_is_restarted_after_stop() -> None:
    cluster = FlakyCluster(failures=0)
    watcher = Supervisor(cluster)
    watcher.start()
    watcher.stop()
    cluster.attempts.clear()
    time.sleep(3 * supervisor.POLL_S)
    assert cluster.attempts == []
