"""--replica-cpus: a real CPU quota per replica (cgroup v2, v1 or systemd-run), recorded,
enforced by the kernel and cleaned up; refused with the reasons where none can be set."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from protobench.cli import main
from servers.cpu_quota import PREFIX, CpuQuota, QuotaError
from servers.launcher import launch

SPIN = "import time\nend = time.time() + 30\nwhile time.time() < end: pass\n"


@pytest.fixture
def quota() -> Iterator[CpuQuota]:
    try:
        chosen = CpuQuota.choose(0.25)
    except QuotaError as exc:
        pytest.skip(f"no CPU quota can be set on this machine: {exc}")
    yield chosen
    chosen.remove()


@pytest.mark.serial  # the CPU a quota lets a replica use: measured alone (the others measure none)
def test_the_kernel_holds_a_replica_to_its_quota(quota: CpuQuota) -> None:
    spinner = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        quota.place("replica-0", spinner.pid)
        process = psutil.Process(spinner.pid)
        time.sleep(0.3)  # let it reach the quota
        before, started = sum(process.cpu_times()[:2]), time.monotonic()
        time.sleep(1.5)
        used = (sum(process.cpu_times()[:2]) - before) / (time.monotonic() - started)
    finally:
        spinner.kill()
        spinner.wait()
    assert used <= 0.25 * 1.3  # a busy loop would take a whole core without the quota
    assert quota.describe()["quota_us"] == 25_000


def test_groups_are_removed_with_the_cluster_and_after_a_killed_launcher(
    quota: CpuQuota,
) -> None:
    assert quota.parent is not None
    base = quota.parent.parent
    stale = base / f"{PREFIX}999999999-0"  # no such pid: its launcher is gone
    stale.mkdir()
    (stale / "replica-0").mkdir()
    again = CpuQuota.choose(0.5)
    assert not stale.exists()
    again.remove()
    assert again.parent is not None and not again.parent.exists()


def test_nowhere_to_set_a_quota_is_refused_with_every_reason(tmp_path: Path) -> None:
    (tmp_path / "mountinfo").write_text("22 1 0:21 / /proc rw - proc proc rw\n")
    (tmp_path / "cgroup").write_text("0::/\n")
    with pytest.raises(QuotaError) as exc:
        CpuQuota.choose(0.25, proc=tmp_path, systemd_probe=False)
    message = str(exc.value)
    assert "cgroup-v2: no cgroup2 hierarchy" in message
    assert "cgroup-v1: no cgroup v1 hierarchy" in message
    assert "leave --replica-cpus out" in message


@pytest.mark.parametrize("cpus", [0.001, 1000.0])
def test_quota_out_of_range_is_refused(cpus: float) -> None:
    with pytest.raises(QuotaError, match="--replica-cpus"):
        CpuQuota.choose(cpus)


def test_serve_refuses_a_quota_it_cannot_give(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--replica-cpus", "0"]) == 2
    assert "--replica-cpus 0" in capsys.readouterr().err


@pytest.mark.rest
def test_every_replica_runs_in_its_quota_group(quota: CpuQuota, models_dir: Path) -> None:
    with launch(
        "rest", replicas=2, serve_args=["--models-dir", str(models_dir)], replica_cpus=0.5
    ) as cluster:
        described = cluster.cpu_quota
        assert described is not None and described["cpus_per_replica"] == 0.5
        assert described["method"] == quota.method
        parent = Path(str(described["where"]))
        for replica in cluster.replicas:
            procs = (parent / replica.name / "cgroup.procs").read_text().split()
            assert str(replica.pid) in procs
    assert not parent.exists()
