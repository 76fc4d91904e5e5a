"""A CPU quota per replica, the "small VM": each replica may use F CPUs' worth of time.

Tried in order, the first that works here wins (and the manifest says which):

1. cgroup v2: a ``protobench-<pid>-<n>`` group under the unified hierarchy's root with the ``cpu``
   controller, one child per replica with ``cpu.max = "<F × period> <period>"``;
2. cgroup v1: the same under the ``cpu`` hierarchy, with ``cpu.cfs_quota_us``/``cpu.cfs_period_us``;
3. ``systemd-run --scope -p CPUQuota=<F × 100>%`` around each replica's command.

The cgroups need write access to ``/sys/fs/cgroup`` (root, or a delegated subtree); each
replica's pid is written into its group right after it starts (before it has loaded its
models). The groups are removed when the cluster stops, and groups left by a launcher that was
killed are removed the next time (their owner's pid is gone and they hold no process).
Nothing works → ``QuotaError`` saying what each way needed, before any replica starts.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

PERIOD_US = 100_000
MIN_CPUS = 0.01  # 1 ms per 100 ms period: the kernel's smallest quota
PREFIX = "protobench-"
RMDIR_TRIES = 20
_clusters = itertools.count()  # one group per cluster, even with several in one process

Method = Literal["cgroup-v2", "cgroup-v1", "systemd-run"]


class QuotaError(RuntimeError):
    """No way to give a replica a CPU quota here; the message says what each way needed."""


def _mounts(mountinfo: Path) -> list[tuple[str, str, str, set[str]]]:
    """(mount point, root within the hierarchy, fstype, super options) of each cgroup mount."""
    found = []
    for line in mountinfo.read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            found.append((fields[4], fields[3], tail[0], set(tail[2].split(","))))
    return found


def _own_group(proc_cgroup: Path, controller: str | None) -> str:
    """This process's group path in the hierarchy holding ``controller`` (None: cgroup v2)."""
    for line in proc_cgroup.read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        names = set(controllers.split(",")) if controllers else set()
        if (controller is None and not controllers) or (controller in names):
            return path
    return "/"


def _group_dir(mount: str, root: str, own: str) -> Path:
    relative = os.path.relpath(own, root) if own.startswith(root) else "."
    return (Path(mount) / relative).resolve()


class CpuQuota:
    """One quota of ``cpus`` per replica, applied by ``method``. Build with ``choose``."""

    def __init__(self, cpus: float, method: Method, parent: Path | None) -> None:
        self.cpus = cpus
        self.method = method
        self.parent = parent  # the cluster's own group (cgroups), None for systemd-run
        self._units = 0

    @property
    def quota_us(self) -> int:
        return round(self.cpus * PERIOD_US)

    def describe(self) -> dict[str, Any]:
        """For the manifest: the quota and how it was applied."""
        return {
            "cpus_per_replica": self.cpus,
            "method": self.method,
            "period_us": PERIOD_US,
            "quota_us": self.quota_us,
            "where": str(self.parent) if self.parent else "systemd scope per replica",
        }

    # -- per replica --------------------------------------------------------------------------

    def wrap(self, name: str, command: Sequence[str]) -> list[str]:
        """The replica's command line; systemd-run runs it in a scope with the quota."""
        if self.method != "systemd-run":
            return list(command)
        self._units += 1
        unit = f"{PREFIX}{os.getpid()}-{name}-{self._units}"
        return [*_systemd_run(), f"--unit={unit}", "-p", f"CPUQuota={self.cpus * 100:g}%",
                "--", *command]  # fmt: skip

    def place(self, name: str, pid: int) -> None:
        """Move a just-started replica into its group (created on first use)."""
        if self.parent is None:
            return
        group = self.parent / name
        if not group.is_dir():
            group.mkdir()
            _set_limit(group, self.method, self.quota_us)
        (group / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        """Remove the groups (their processes have exited); a group still busy is left,
        and a later ``choose`` removes it."""
        if self.parent is not None:
            _remove_tree(self.parent)

    # -- choosing a method --------------------------------------------------------------------

    @classmethod
    def choose(
        cls,
        cpus: float,
        *,
        proc: Path = Path("/proc/self"),
        systemd_probe: bool = True,
    ) -> CpuQuota:
        """The first method that works here, its group created and checked writable."""
        if not MIN_CPUS <= cpus <= (os.cpu_count() or 1):
            raise QuotaError(
                f"--replica-cpus {cpus:g}: give between {MIN_CPUS} and {os.cpu_count()} "
                "(the CPUs this machine has) per replica"
            )
        mounts = _mounts(proc / "mountinfo")
        why: dict[str, str] = {}
        for method in ("cgroup-v2", "cgroup-v1"):
            try:
                parent = _make_parent(method, mounts, proc / "cgroup")
            except (OSError, LookupError) as exc:
                why[method] = str(exc)
                continue
            return cls(cpus, method, parent)
        if systemd_probe:
            problem = _systemd_problem(cpus)
            if problem is None:
                return cls(cpus, "systemd-run", None)
            why["systemd-run"] = problem
        reasons = "; ".join(f"{method}: {reason}" for method, reason in why.items())
        raise QuotaError(
            f"--replica-cpus needs a CPU quota and none can be set here ({reasons}). Run as "
            "root on Linux with the cgroup cpu controller mounted, or under systemd; or leave "
            "--replica-cpus out (and pin with --cpus instead)."
        )


def _make_parent(
    method: str, mounts: list[tuple[str, str, str, set[str]]], proc_cgroup: Path
) -> Path:
    """Create this launcher's group where ``method`` can limit CPU; raise why it cannot."""
    if method == "cgroup-v2":
        found = [m for m in mounts if m[2] == "cgroup2"]
        if not found:
            raise LookupError("no cgroup2 hierarchy is mounted")
        mount, root, _, _ = found[0]
        base = _group_dir(mount, root, "/")
        if "cpu" not in (base / "cgroup.controllers").read_text().split():
            raise LookupError(f"the cpu controller is not available in {base}")
        if "cpu" not in (base / "cgroup.subtree_control").read_text().split():
            (base / "cgroup.subtree_control").write_text("+cpu")
    else:
        found = [m for m in mounts if m[2] == "cgroup" and "cpu" in m[3]]
        if not found:
            raise LookupError("no cgroup v1 hierarchy with the cpu controller is mounted")
        mount, root, _, _ = found[0]
        base = _group_dir(mount, root, _own_group(proc_cgroup, "cpu"))
    _remove_stale(base)
    parent = base / f"{PREFIX}{os.getpid()}-{next(_clusters)}"
    parent.mkdir()
    try:
        if method == "cgroup-v2":
            (parent / "cgroup.subtree_control").write_text("+cpu")
        probe = parent / "probe"
        probe.mkdir(exist_ok=True)
        _set_limit(probe, method, PERIOD_US)
        probe.rmdir()
    except OSError:
        _remove_tree(parent)
        raise
    return parent


def _set_limit(group: Path, method: str, quota_us: int) -> None:
    if method == "cgroup-v2":
        (group / "cpu.max").write_text(f"{quota_us} {PERIOD_US}")
    else:
        (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(quota_us))


def _remove_tree(group: Path) -> None:
    """rmdir children then the group, retrying while the kernel lets the last exits settle."""
    for child in sorted((p for p in group.iterdir() if p.is_dir()), reverse=True):
        _remove_tree(child)
    for _ in range(RMDIR_TRIES):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)


def _remove_stale(base: Path) -> None:
    """Groups of launchers that no longer run (killed before they could clean up)."""
    for group in base.glob(f"{PREFIX}*"):
        owner = group.name.removeprefix(PREFIX).partition("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            _remove_tree(group)


def _systemd_run() -> list[str]:
    user = ["--user"] if os.geteuid() != 0 else []
    return ["systemd-run", *user, "--scope", "--quiet", "--collect"]


def _systemd_problem(cpus: float) -> str | None:
    """None when a scope with the quota can be made here, else why not."""
    if shutil.which("systemd-run") is None:
        return "systemd-run is not installed"
    try:
        probe = subprocess.run(
            [*_systemd_run(), "-p", f"CPUQuota={cpus * 100:g}%", "true"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"systemd-run failed ({exc})"
    if probe.returncode != 0:
        message = (probe.stderr or probe.stdout).strip().splitlines()
        return f"systemd-run cannot make a scope ({message[-1] if message else probe.returncode})"
    return None
