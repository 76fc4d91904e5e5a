"""N replicas of one protocol's server behind a balancer, started and stopped as one unit.

    with launch("rest", replicas=2, balancer="nginx") as cluster:
        with clients.connect("rest", cluster.target) as client:
            client.predict("iris", [[5.1, 3.5, 1.4, 0.2]])
        cluster.request_counts()  # {"replica-0": 1, "replica-1": 0}

Each replica is a ``protobench serve`` subprocess (``replica_command``) with its request
counters on a metrics side port (``servers.metrics``). The first replica starts alone — it
trains the models if the models folder is empty, and with ``reuseport`` it picks the port the
others then share — and the rest start together. Only when every replica is ready does the
balancer start; ``launch`` returns once a health call through the balancer succeeds.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from clients import connect
from clients.base import ClientError
from protobench.protocols import Protocol
from servers.balancers import Backend, Balancer, get_balancer
from servers.balancers.base import host_port
from servers.cpu_quota import CpuQuota
from servers.metrics import MULTIPROC_ENV, Scrape, forget_process, metrics_url, scrape
from servers.supervisor import Supervisor

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0  # per replica; the first may train the models, and four replicas
# starting together on a shared 2-core machine at load 17 took over 60 s
STOP_GRACE_S = 15.0  # the servers drain in-flight requests for up to 10 s
POLL_S = 0.05
LOG_TAIL_CHARS = 3000


class LaunchError(RuntimeError):
    """A replica or the balancer did not come up; the message carries its log's tail."""


@dataclass
class Replica:
    name: str
    pid: int  # changes when the supervisor restarts the replica
    port: int
    metrics_url: str | None


def replica_command(
    protocol: Protocol,
    name: str,
    *,
    host: str,
    port: int,
    reuse_port: bool,
    port_file: Path,
    metrics_port_file: Path,
    serve_args: Sequence[str] = (),
) -> list[str]:
    """The command line of one replica; ours come last so they win over ``serve_args``.

    ``--load-first``: a replica opens its port only once it can answer, because with
    ``reuseport`` the kernel hands connections to any socket in the group, ready or not.
    ``--exit-with-parent``: no replica outlives a launcher that was killed outright.
    """
    return [
        sys.executable, "-m", "protobench.cli", "serve", *serve_args,
        "--protocol", protocol, "--host", host, "--port", str(port),
        "--port-file", str(port_file), "--replica-name", name, "--load-first",
        "--exit-with-parent",
        "--metrics-port", "0", "--metrics-port-file", str(metrics_port_file),
        *(["--reuse-port"] if reuse_port else []),
    ]  # fmt: skip


def free_port(host: str, port: int = 0) -> int:
    """``port`` if nothing listens there now (any free one for 0), for engines that cannot
    announce their port, and to refuse a busy public port before anything starts — including
    one held by someone else's SO_REUSEPORT group, which replicas would silently join."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise LaunchError(
                f"cannot use {host_port(host, port)}: {exc.strerror}. Choose another port "
                "(0 picks a free one)."
            ) from None
        bound: int = sock.getsockname()[1]
        return bound


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
    except OSError:
        return "(no log)"


@dataclass
class _Process:
    """A process we started, with the files it reports through."""

    process: subprocess.Popen[bytes]
    log_path: Path
    port_file: Path | None = None
    metrics_port_file: Path | None = None


class Cluster:
    """Replicas plus balancer. Build it with ``launch``; every attribute is safe to read while
    the supervisor works (a restarted replica keeps its name and port, gets a new pid)."""

    def __init__(
        self,
        protocol: Protocol,
        balancer: Balancer,
        *,
        host: str,
        serve_args: Sequence[str],
        workdir: Path,
        cpus: Sequence[int] | None,
        env: Mapping[str, str] | None,
        replica_cpus: float | None = None,
    ) -> None:
        self.protocol = protocol
        self.balancer = balancer.name
        self.target = ""
        self.port: int | None = None  # the public port; None when the target lists replicas
        self.replicas: list[Replica] = []
        self.balancer_pid: int | None = None
        self.workdir = workdir
        self._engine = balancer
        self._host = host
        self._serve_args = tuple(serve_args)
        self._cpus = tuple(cpus) if cpus else None  # an empty list pins nothing
        self._replica_cpus = replica_cpus
        self._quota: CpuQuota | None = None
        self._env = {**os.environ, **(env or {})}
        self._processes: dict[str, _Process] = {}  # replica name -> its current process
        self._balancer_process: _Process | None = None
        self._supervisor: Supervisor | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # -- what the runner reads ------------------------------------------------------------

    def request_counts(self) -> dict[str, int]:
        """Predict calls (features and images, any outcome) each replica has served since the
        cluster started, across restarts; 0 for a replica that does not answer its metrics
        port right now."""
        return {name: m.predictions if m else 0 for name, m in self._scrape_all().items()}

    def health(self) -> dict[str, bool]:
        """Whether each replica answers its metrics port with its models loaded."""
        return {name: bool(m and m.ready) for name, m in self._scrape_all().items()}

    def _scrape_all(self) -> dict[str, Scrape | None]:
        scrapes: dict[str, Scrape | None] = {}
        for replica in list(self.replicas):
            try:
                scrapes[replica.name] = scrape(replica.metrics_url or "")
            except httpx.HTTPError:
                scrapes[replica.name] = None
        return scrapes

    @property
    def cpu_quota(self) -> dict[str, object] | None:
        """Each replica's CPU quota and how it was applied (None: no quota)."""
        return self._quota.describe() if self._quota else None

    def pids(self) -> list[int]:
        pids = [replica.pid for replica in self.replicas]
        return pids if self.balancer_pid is None else [*pids, self.balancer_pid]

    # -- starting ---------------------------------------------------------------------------

    def start(self, replicas: int, port: int, supervise: bool) -> None:
        self._engine.check(self.protocol)
        if port != 0 and self._engine.listens:
            free_port(self._host, port)
        if self._replica_cpus is not None:
            self._quota = CpuQuota.choose(self._replica_cpus)
        shares_port = self._engine.shares_port
        replica_port = port if shares_port else 0  # own ports are the kernel's choice
        first = self._start_replicas(["replica-0"], replica_port, shares_port)
        if shares_port:
            port = replica_port = first[0].port  # the port the others join
        names = [f"replica-{i}" for i in range(1, replicas)]
        self.replicas = first + self._start_replicas(names, replica_port, shares_port)

        backends = [Backend(r.name, self._host, r.port) for r in self.replicas]
        if self._engine.listens:
            self.port = port or free_port(self._host)
        self._start_balancer(backends, self.port or 0)
        self.target = self._engine.target(self._host, self.port or 0, backends)
        self._await_target(time.monotonic() + START_TIMEOUT_S)
        if supervise:
            self._supervisor = Supervisor(self)
            self._supervisor.start()

    def _spawn(self, name: str, port: int, reuse_port: bool) -> _Process:
        port_file = self.workdir / f"{name}.port"
        metrics_port_file = self.workdir / f"{name}.metrics-port"
        for stale in (port_file, metrics_port_file):
            stale.unlink(missing_ok=True)
        command = replica_command(
            self.protocol, name, host=self._host, port=port, reuse_port=reuse_port,
            port_file=port_file, metrics_port_file=metrics_port_file,
            serve_args=self._serve_args,
        )  # fmt: skip
        if self._quota is not None:
            command = self._quota.wrap(name, command)
        log_path = self.workdir / f"{name}.log"
        values = self._metric_values(name)
        values.mkdir(exist_ok=True)
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**self._env, MULTIPROC_ENV: str(values)},
                process_group=0,  # Ctrl-C reaches the launcher only; it stops us in order
            )
        if self._cpus is not None:
            os.sched_setaffinity(process.pid, self._cpus)
        if self._quota is not None:
            try:
                self._quota.place(name, process.pid)
            except OSError as exc:
                _terminate([process], signal.SIGKILL)
                raise LaunchError(f"{name}: cannot apply its CPU quota: {exc}") from None
        return _Process(process, log_path, port_file, metrics_port_file)

    def _metric_values(self, name: str) -> Path:
        """The replica's prometheus_client values, one file per process: kept across restarts
        (its counters survive a kill), emptied when the cluster starts."""
        return self.workdir / f"{name}.metrics"

    def _start_replicas(self, names: list[str], port: int, shares_port: bool) -> list[Replica]:
        started = []
        for name in names:
            shutil.rmtree(self._metric_values(name), ignore_errors=True)
            with self._lock:
                self._processes[name] = self._spawn(name, port, shares_port)
            started.append(name)
        deadline = time.monotonic() + START_TIMEOUT_S
        return [self._await_replica(name, self._processes[name], deadline) for name in started]

    def _await_replica(self, name: str, running: _Process, deadline: float) -> Replica:
        """Ready = both ports announced, models loaded (metrics) and, on its own port, a health
        call over the protocol answered. Replicas sharing a port are reached via the target."""
        assert running.port_file is not None and running.metrics_port_file is not None
        while True:
            code = running.process.poll()
            if code is not None:
                raise LaunchError(
                    f"{name} exited ({code}) while starting:\n{_tail(running.log_path)}"
                )
            if self._stopping.is_set():
                raise LaunchError(f"{name}: the cluster is stopping")
            if running.port_file.exists() and running.metrics_port_file.exists():
                port = int(running.port_file.read_text())
                url = metrics_url(self._host, int(running.metrics_port_file.read_text()))
                if self._metrics_ready(url) and (
                    self._engine.shares_port or self._answers(host_port(self._host, port))
                ):
                    return Replica(name, running.process.pid, port, url)
            if time.monotonic() > deadline:
                raise LaunchError(f"{name} was not ready in time:\n{_tail(running.log_path)}")
            time.sleep(POLL_S)

    @staticmethod
    def _metrics_ready(url: str) -> bool:
        try:
            return scrape(url, timeout=1.0).ready
        except httpx.HTTPError:
            return False

    def _answers(self, target: str) -> bool:
        try:
            with connect(self.protocol, target, timeout=2.0) as client:
                return client.health().ready
        except ClientError:
            return False

    def _start_balancer(self, backends: list[Backend], port: int) -> None:
        process = self._engine.start(self.protocol, backends, self._host, port, self.workdir)
        if process is None:
            return
        self._balancer_process = _Process(process, self.workdir / f"{self.balancer}.log")
        self.balancer_pid = process.pid
        if self._cpus is not None:
            os.sched_setaffinity(process.pid, self._cpus)

    def _await_target(self, deadline: float) -> None:
        """A health call through the balancer, with the balancer still running afterwards
        (whatever answered must not be something else on that port)."""
        while True:
            answered = self._answers(self.target)
            balancer = self._balancer_process
            if balancer is not None and balancer.process.poll() is not None:
                raise LaunchError(
                    f"{self.balancer} exited ({balancer.process.returncode}) while starting:\n"
                    f"{_tail(balancer.log_path)}"
                )
            if answered:
                return
            if time.monotonic() > deadline:
                raise LaunchError(f"no healthy answer through {self.balancer} at {self.target}")
            time.sleep(POLL_S)

    # -- supervision (called from the supervisor's thread) ----------------------------------

    def exited(self) -> list[str]:
        with self._lock:
            if self._stopping.is_set():
                return []
            return [n for n, p in self._processes.items() if p.process.poll() is not None]

    def restart(self, name: str) -> None:
        replica = next(r for r in self.replicas if r.name == name)
        with self._lock:
            if self._stopping.is_set():
                return
            forget_process(replica.pid, self._metric_values(name))
            running = self._spawn(name, replica.port, self._engine.shares_port)
            self._processes[name] = running
        try:
            fresh = self._await_replica(name, running, time.monotonic() + START_TIMEOUT_S)
        except LaunchError:
            _terminate([running.process], signal.SIGTERM)  # reported as exited, so retried
            raise
        replica.pid, replica.metrics_url = fresh.pid, fresh.metrics_url

    # -- stopping ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Balancer first (so no new request reaches a stopping replica), then the replicas:
        each gets its graceful signal, ``STOP_GRACE_S`` to drain, then SIGKILL."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.stop()
        if self._balancer_process is not None:
            stop_signal = getattr(self._engine, "stop_signal", signal.SIGTERM)
            _terminate([self._balancer_process.process], stop_signal)
        _terminate([p.process for p in self._processes.values()], signal.SIGTERM)
        if self._quota is not None:
            self._quota.remove()


def _terminate(processes: Sequence[subprocess.Popen[bytes]], stop_signal: int) -> None:
    """Signal, wait up to ``STOP_GRACE_S``, SIGKILL what is left, and then any descendant
    (nginx's workers) that outlived its parent."""
    descendants: list[psutil.Process] = []
    for process in processes:
        with suppress(psutil.Error):
            descendants += psutil.Process(process.pid).children(recursive=True)
        if process.poll() is None:
            with suppress(ProcessLookupError):
                process.send_signal(stop_signal)
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("protobench: pid %d ignored its stop signal; killing it", process.pid)
            process.kill()
            process.wait()
    for leftover in psutil.wait_procs(descendants, timeout=1.0)[1]:
        with suppress(psutil.Error):
            leftover.kill()


@contextmanager
def launch(
    protocol: Protocol,
    *,
    replicas: int = 1,
    balancer: str = "reuseport",
    host: str = "127.0.0.1",
    port: int = 0,
    serve_args: Sequence[str] = (),
    workdir: Path | None = None,
    cpus: Sequence[int] | None = None,
    supervise: bool = True,
    env: Mapping[str, str] | None = None,
    replica_cpus: float | None = None,
) -> Iterator[Cluster]:
    """Start ``replicas`` servers of ``protocol`` behind ``balancer``; stop them all on exit.

    ``port`` is the public port (0 = a free one; unused by the ``client`` balancer, whose
    target lists the replicas). ``cpus`` pins the replicas (and a balancer process) to those
    cores. ``replica_cpus`` gives each replica a CPU quota (``servers.cpu_quota``). Raises
    ``BalancerError`` when the balancer cannot run here, ``QuotaError`` when no quota can be
    set, ``LaunchError`` when a process does not come up; either way nothing is left running.
    """
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    own_workdir = workdir is None
    root = Path(tempfile.mkdtemp(prefix="protobench-cluster-")) if workdir is None else workdir
    root.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(
        protocol, get_balancer(balancer), host=host, serve_args=serve_args,
        workdir=root.resolve(), cpus=cpus, env=env, replica_cpus=replica_cpus,
    )  # fmt: skip
    try:
        cluster.start(replicas, port, supervise)
        yield cluster
    finally:
        cluster.stop()
        if own_workdir:
            shutil.rmtree(root, ignore_errors=True)
