"""``protobench bench``: for every cell, launch servers, drive Locust headless, measure, tear down.

Timeline of one cell (absolute wall-clock times, shared by every process):
  launch -> wire-byte calibration -> Locust starts -> warm-up -> measured window -> Locust stops
Samples, CPU and per-replica counters are all taken over the same measured window.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from clients import client_class
from clients.base import InferenceClient
from loadtests.coldstart import measure as measure_cold_starts
from loadtests.cpu import CpuWindow, MachineUsage, MachineWindow
from loadtests.distributed import START_SLACK_S, distributed_command
from loadtests.expected import server_cores
from loadtests.matrix import BenchConfig, Cell, cells
from loadtests.native import NativeRun, native_command, native_latency
from loadtests.remote import ExternalTargets, annotate
from loadtests.results import write_run
from loadtests.samples import load_samples
from loadtests.stats import WindowStats, percentile_curve, window_stats
from loadtests.wire import calibrate
from loadtests.workload import Workload
from protobench.protocols import Protocol, spec

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
GENERATOR_BOUND_SHARE = 0.85
# cpu-contended: the machine's CPUs this busy, with other work keeping this many busy
CONTENDED_BUSY_SHARE = 0.9
CONTENDED_OTHER_CPUS = 0.2
NATIVE_SLACK_S = 10.0  # wrk and h2load run this long past the window (a late start eats into it)
LOCUST_START_SLACK_S = 60.0  # Locust's own start-up and shutdown, beyond the run time (a busy
# shared machine has seen a pinned Locust take over 20 s to send its first request)


class Stall:
    """A planted server stall: every replica paused (SIGSTOP) for a while mid-window, to show
    what coordinated omission hides. ``spec`` is (seconds after the window start, seconds)."""

    def __init__(self, pids: list[int], window_start: float, spec: tuple[float, float] | None):
        self.pids = pids
        self.begin = window_start + spec[0] if spec else math.inf
        self.end = self.begin + spec[1] if spec else math.inf
        self.active = False
        self.done = False

    def tick(self, now: float) -> None:
        if not self.active and not self.done and now >= self.begin:
            self._signal(signal.SIGSTOP)
            self.active = True
        elif self.active and now >= self.end:
            self.release()

    def release(self) -> None:
        if self.active:
            self._signal(signal.SIGCONT)
            self.active = False
            self.done = True

    def _signal(self, sig: signal.Signals) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


def plan_cpus(
    replicas: int, generator_processes: int, pin: bool, replica_cpus: float | None = None
) -> dict[str, Any]:
    """Split the usable cores between server replicas and the load generator, if there are
    enough for both; otherwise share them all and say so. Replicas with a CPU quota share
    as many cores as their quotas add up to."""
    usable = sorted(os.sched_getaffinity(0))
    needed = server_cores(replicas, replica_cpus)
    if pin and len(usable) >= needed + 1:
        server = usable[:needed]
        generator = usable[needed:]
        processes = generator_processes or len(generator)
        return {"pinned": True, "server_cpus": server, "generator_cpus": generator,
                "generator_processes": processes}  # fmt: skip
    return {"pinned": False, "server_cpus": None, "generator_cpus": None,
            "generator_processes": generator_processes or 1}  # fmt: skip


def more_generator_processes(cpus: dict[str, Any], requested: int) -> dict[str, Any] | None:
    """One more Locust process, when the processes were chosen automatically (``requested`` is
    0) and a core is left for it: a generator-bound cell is then measured again with it."""
    cores = len(cpus["generator_cpus"] or os.sched_getaffinity(0))
    if requested or cpus["generator_processes"] >= cores:
        return None
    return {**cpus, "generator_processes": cpus["generator_processes"] + 1}


def _client_factory(protocol: Protocol, workload: Workload) -> Callable[[str], InferenceClient]:
    cls = client_class(protocol)
    options = workload.client_options
    return lambda target: cls(target, timeout=30.0, **options)


def _wire_target(cluster: Any) -> tuple[str, int]:
    """Where to put the counting relay: the public target, or one replica for client-side
    balancing (a multi-address target cannot go through one relay)."""
    if isinstance(cluster, ExternalTargets):
        return cluster.wire_target()
    target: str = cluster.target
    if "," in target or target.startswith("ipv4:"):
        replica = cluster.replicas[0]
        return "127.0.0.1", int(replica.port)
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def _locust_command(cell: Cell, config: BenchConfig, target: str, processes: int,
                    csv_prefix: Path, run_time_s: float) -> list[str]:  # fmt: skip
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE),
        spec(cell.protocol).locust_user,  # named, not imported: Locust patches for gevent
        "--headless", "--only-summary", "--loglevel", "WARNING",
        "-u", str(cell.users), "-r", str(cell.users),
        "-t", f"{run_time_s:.0f}s", "--stop-timeout", "5",
        "--host", target, "--csv", str(csv_prefix),
        "--pb-payload", cell.payload, "--pb-batch", str(cell.batch),
    ]  # fmt: skip
    if cell.rate is not None:
        command += ["--pb-rate", str(cell.rate)]
    if processes > 1:
        command += ["--processes", str(processes)]
    if config.distribution is not None:
        return distributed_command(command, config.distribution)
    return command


class CellRun:
    """One cell, measured. ``progress`` is called about twice a second with live numbers."""

    def __init__(self, cell: Cell, config: BenchConfig, folder: Path) -> None:
        self.cell = cell
        self.config = config
        self.folder = folder.resolve()  # Locust runs in it: every path it is given must be absolute
        self.progress = self.folder / "progress"  # requests sent so far, by the Locust master
        self.slack = START_SLACK_S if config.distribution else LOCUST_START_SLACK_S

    def run(self, progress: Callable[[float, float], None]) -> dict[str, Any]:
        from servers.launcher import launch

        cell, config = self.cell, self.config
        cpus = plan_cpus(cell.replicas, config.generator_processes, config.pin,
                         config.replica_cpus)  # fmt: skip
        serve_args = config.serve_args()
        self.folder.mkdir(parents=True, exist_ok=True)
        servers = (
            contextlib.nullcontext(ExternalTargets(cell.protocol, config.remote, self.progress))
            if config.remote is not None
            else launch(
                cell.protocol,
                replicas=cell.replicas,
                balancer=cell.balancer if cell.balancer != "none" else "reuseport",
                serve_args=serve_args,
                workdir=self.folder / "replicas",  # not "servers/": Locust imports from this cwd
                cpus=cpus["server_cpus"],
                replica_cpus=config.replica_cpus,
            )
        )
        with servers as cluster:
            workload = Workload(cell.payload, cell.batch)
            host, port = _wire_target(cluster)
            wire = calibrate(
                host, port, transport=spec(cell.protocol).transport,
                open_client=_client_factory(cell.protocol, workload),
                send=lambda c: workload.next_call(random.Random(0)).send(c),
                calls=config.calibration_calls,
            )  # fmt: skip
            measured = self._drive(cluster, cpus, progress)
            escalations: list[dict[str, Any]] = []
            while "generator-bound" in measured["flags"] and (
                more := more_generator_processes(cpus, config.generator_processes)
            ):
                busiest = measured["cpu"]["generator_busiest_share"]
                escalations.append(
                    {"processes": cpus["generator_processes"], "busiest_share": busiest}
                )
                self._keep_attempt(cpus["generator_processes"])
                cpus = more
                measured = self._drive(cluster, cpus, progress)
            quota = cluster.cpu_quota  # each replica's CPU quota and how it was applied
        remote_workers = config.distribution.remote_workers if config.distribution else 0
        result = {**self._describe(cpus), **measured, "wire_bytes": asdict(wire),
                  "cpu_quota": quota, "generator_escalations": escalations}  # fmt: skip
        return annotate(result, cluster, remote_workers)

    def _keep_attempt(self, processes: int) -> None:
        """Move a generator-bound attempt's samples and log aside before the next attempt."""
        for name in ("samples", "locust.log"):
            path = self.folder / name
            if path.exists():
                path.rename(self.folder / f"{path.stem}-{processes}-processes{path.suffix}")

    def _describe(self, cpus: dict[str, Any]) -> dict[str, Any]:
        cell = self.cell
        return {
            "cell_id": cell.cell_id, "protocol": cell.protocol, "replicas": cell.replicas,
            "balancer": cell.balancer, "model": "digits" if cell.payload == "digits-image"
            else "iris", "users": cell.users, "rate": cell.rate, "batch": cell.batch,
            "payload": cell.payload, "repeat": cell.repeat,
            **self.config.server_model(),
            "load_model": "open" if cell.rate is not None else "closed",
            "warmup_s": self.config.warmup_s, "duration_s": self.config.duration_s,
            "pinning": cpus,
        }  # fmt: skip

    def _drive(self, cluster: Any, cpus: dict[str, Any],
               progress: Callable[[float, float], None]) -> dict[str, Any]:  # fmt: skip
        cell, config = self.cell, self.config
        samples_dir = self.folder / "samples"
        native = None
        if cell.driver == "native":
            # A C tool starts at once and stops by itself just after the window.
            run_time = config.warmup_s + config.duration_s + NATIVE_SLACK_S
            native = native_command(cell, cluster.target, self.folder, run_time)
            command, log_path = native.command, native.log
        else:
            # Locust is stopped (SIGTERM, which still writes its CSVs and our samples) as soon
            # as the measured window ends; its own -t is only a backstop.
            run_time = config.warmup_s + config.duration_s + LOCUST_START_SLACK_S
            command = _locust_command(cell, config, cluster.target, cpus["generator_processes"],
                                      self.folder / "locust", run_time)  # fmt: skip
            log_path = self.folder / "locust.log"
        generator_cpus = cpus["generator_cpus"]
        env = {**os.environ, "PROTOBENCH_LT_SAMPLES_DIR": str(samples_dir),
               "PROTOBENCH_LT_PROGRESS_FILE": str(self.progress)}  # fmt: skip
        log = log_path.open("wb")
        launched = time.time()
        generator = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.folder,
            preexec_fn=(lambda: os.sched_setaffinity(0, generator_cpus)) if generator_cpus
            else None,
        )  # fmt: skip
        try:
            window = self._follow(cluster, generator, launched, progress)
            if native is None:
                generator.terminate()
            generator.wait(timeout=self.slack + NATIVE_SLACK_S)
        finally:
            if generator.poll() is None:
                generator.kill()
                generator.wait()
            log.close()
        if generator.returncode not in (0, 1, -signal.SIGTERM):  # 1: Locust saw failures
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{command[0]} exited with {generator.returncode}:\n{tail}")
        if native is not None:
            return self._native_measurements(window, native)
        stats = window_stats(load_samples(samples_dir), window["start"], window["end"])
        return self._measurements(stats, window, samples_dir)

    def _native_measurements(self, window: dict[str, Any], native: NativeRun) -> dict[str, Any]:
        """Throughput from the replicas' counters over the window; latency from the tool."""
        answered = sum(window["replica_requests"].values())
        latency, failed = native_latency(native)
        rps = answered / self.config.duration_s
        flags = ["errors"] if failed else []
        flags += _cpu_flags(window["cpu"])
        return {
            "requests": answered, "ok": answered, "errors": {"NATIVE_FAILED": failed} if failed
            else {}, "requests_per_s": rps, "predictions_per_s": rps * self.cell.batch,
            "latency_ms": latency, "latency_corrected_ms": latency, "percentile_curve": [],
            "percentile_curve_corrected": [],
            "little_concurrency": rps * latency["mean"] / 1000.0,
            "throughput_halves": [math.nan, math.nan],
            "cpu": _cpu_block(window["cpu"], max(answered, 1)),
            **_shares(window["replica_requests"]), "flags": flags,
            "driver": "native", "native_command": native.command,
        }  # fmt: skip

    def _follow(self, cluster: Any, generator: subprocess.Popen[bytes], launched: float,
                progress: Callable[[float, float], None]) -> dict[str, Any]:  # fmt: skip
        """Watch the run. The clock starts when the replicas' counters show the first request
        (Locust takes a second or two to start); the warm-up runs from there, then the
        measured window, at whose edges CPU and counters are snapshotted."""
        config = self.config
        baseline = sum(cluster.request_counts().values())
        while sum(cluster.request_counts().values()) == baseline:
            if generator.poll() is not None or time.time() - launched > self.slack:
                raise RuntimeError("the load generator sent no request; see locust.log")
            time.sleep(0.05)
        started = time.time()
        start = started + config.warmup_s
        end = start + config.duration_s
        servers = (
            cluster.cpu
            if isinstance(cluster, ExternalTargets)
            else CpuWindow(r.pid for r in cluster.replicas)
        )
        balancer = CpuWindow([cluster.balancer_pid] if cluster.balancer_pid else [])
        load = CpuWindow([generator.pid])
        bench = CpuWindow([os.getpid()], children=False)  # this process: counters, progress
        machine = MachineWindow()
        stall = Stall([r.pid for r in cluster.replicas], start, config.stall)
        last_total, last_time = sum(cluster.request_counts().values()), time.time()
        counts_start: dict[str, int] = {}
        measuring = False
        try:
            while time.time() < end and generator.poll() is None:
                time.sleep(min(0.25, max(0.01, (start if not measuring else end) - time.time())))
                now = time.time()
                stall.tick(now)
                if not measuring and now >= start:
                    counts_start = cluster.request_counts()
                    for w in (servers, balancer, load, bench, machine):
                        w.start()
                    measuring = True
                if stall.active:
                    progress(now - started, 0.0)
                    continue
                total = sum(cluster.request_counts().values())
                progress(now - started, max(0.0, total - last_total) / max(now - last_time, 1e-6))
                last_total, last_time = total, now
        finally:
            stall.release()
        if not measuring:
            raise RuntimeError("the load generator stopped before the measured window began")
        usage = {"server": servers.stop(), "balancer": balancer.stop(), "generator": load.stop(),
                 "bench": bench.stop(), "machine": machine.stop()}  # fmt: skip
        counts_end = cluster.request_counts()
        shares = {name: counts_end.get(name, 0) - counts_start.get(name, 0) for name in counts_end}
        return {"start": start, "end": end, "cpu": usage, "replica_requests": shares}

    def _measurements(self, stats: WindowStats, window: dict[str, Any],
                      samples_dir: Path) -> dict[str, Any]:  # fmt: skip
        cpu: dict[str, Any] = window["cpu"]
        ok = max(stats.ok, 1)
        flags = _cpu_flags(cpu)
        if stats.unstable:
            flags.append("unstable")
        if stats.errors:
            flags.append("errors")
        if stats.ok == 0:
            flags.append("no-successful-requests")
        latencies = load_samples(samples_dir).window(window["start"], window["end"])
        good = latencies.errors == ""
        return {
            "requests": stats.requests,
            "ok": stats.ok,
            "errors": stats.errors,
            "requests_per_s": stats.requests_per_s,
            "predictions_per_s": stats.predictions_per_s,
            "latency_ms": asdict(stats.latency),
            "latency_corrected_ms": asdict(stats.latency_corrected),
            "percentile_curve": percentile_curve((latencies.done - latencies.sent)[good]),
            "percentile_curve_corrected": percentile_curve(
                (latencies.done - latencies.intended)[good]
            ),
            "little_concurrency": stats.requests_per_s * stats.latency.mean / 1000.0,
            "throughput_halves": [stats.first_half_rps, stats.second_half_rps],
            "cpu": _cpu_block(cpu, ok),
            **_shares(window["replica_requests"]),
            "flags": flags,
        }


def _ours_s(cpu: dict[str, Any]) -> float:
    """CPU seconds of the cell's own processes, the bench's included (servers measured remotely
    too, so other work is never overstated)."""
    return float(sum(cpu[part].total_s for part in ("server", "balancer", "generator", "bench")))


def _cpu_flags(cpu: dict[str, Any]) -> list[str]:
    """generator-bound: the instrument was the limit. cpu-contended: the machine's CPUs were
    busy and other work took a share of them, so the cell measured less than its servers
    could do on their own (a shared machine; docs/loadtests.md)."""
    flags = []
    if cpu["generator"].busiest_share > GENERATOR_BOUND_SHARE:
        flags.append("generator-bound")
    machine: MachineUsage = cpu["machine"]
    if (
        machine.busy_share >= CONTENDED_BUSY_SHARE
        and machine.other_cpus(_ours_s(cpu)) >= CONTENDED_OTHER_CPUS
    ):
        flags.append("cpu-contended")
    return flags


def _cpu_block(cpu: dict[str, Any], ok: int) -> dict[str, float]:
    machine: MachineUsage = cpu["machine"]
    return {
        "server_s": cpu["server"].total_s,
        "balancer_s": cpu["balancer"].total_s,
        "generator_s": cpu["generator"].total_s,
        "server_us_per_request": cpu["server"].total_s / ok * 1e6,
        "balancer_us_per_request": cpu["balancer"].total_s / ok * 1e6,
        "generator_us_per_request": cpu["generator"].total_s / ok * 1e6,
        # The instrument against what it measures: far below 1, or the cell measures the load
        # generator (docs/loadtests.md).
        "generator_to_server": cpu["generator"].total_s / max(cpu["server"].total_s, 1e-9),
        # What one server core could answer, whatever the generator reached: 1 / (server CPU
        # seconds per request).
        "capacity_per_core": ok / max(cpu["server"].total_s, 1e-9),
        "generator_busiest_share": cpu["generator"].busiest_share,
        "generator_processes": cpu["generator"].processes,
        # the whole machine: how busy its CPUs were, and how many CPUs other work took
        "machine_busy_share": machine.busy_share,
        "other_cpus": machine.other_cpus(_ours_s(cpu)),
    }


def _shares(requests: dict[str, int]) -> dict[str, Any]:
    total = sum(requests.values()) or 1
    return {
        "replica_requests": requests,
        "replica_shares": {name: count / total for name, count in requests.items()},
    }


def run_matrix(
    config: BenchConfig,
    out: Path,
    argv: list[str],
    on_cell_start: Callable[[int, int, Cell], None],
    progress: Callable[[float, float], None],
    on_cold_start: Callable[[int, int, str], None] = lambda _i, _n, _label: None,
) -> Path:
    """Run every cell and write the results; returns the path of the run's results.json."""
    from loadtests.manifest import build_manifest

    run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
    folder = out / run_id
    manifest = build_manifest(argv, {"servers": "external" if config.remote else "launched"})
    plan = cells(config)
    results = []
    for i, cell in enumerate(plan):
        on_cell_start(i, len(plan), cell)
        results.append(CellRun(cell, config, folder / "cells" / cell.cell_id).run(progress))
    document = {"run_id": run_id, "manifest": manifest, "config": config.to_json(),
                "cells": results}  # fmt: skip
    if config.cold_starts and config.remote is None:  # servers started here, so timed here
        document["cold_start"] = measure_cold_starts(
            config.protocols, config.cold_starts, folder / "cold-start", on_cold_start
        )
    return write_run(out, run_id, document)
