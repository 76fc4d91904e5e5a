from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from clients.base import NotOffered
from protobench.core.registry import ModelRegistry
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from tests.support.protocols import register_markers


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)


# Under `make test` (pytest-xdist, `--dist loadfile`) a file's tests run on one worker, so the
# servers it shares start once. The files below are split further, one group per parameter (each
# scaling cluster), so their clusters spread over the workers; and they go first, so that the
# short files fill in at the end.
SPLIT_BY_PARAM = ("tests/scaling/test_balancing.py",)
LONGEST_FIRST = (*SPLIT_BY_PARAM, "tests/playground/test_playground.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """xdist hands the groups out in collection order: the longest files first (a file's tests
    keep their order)."""
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in LONGEST_FIRST)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadfile``, with the files of SPLIT_BY_PARAM grouped by parameter instead."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class ByFileOrCluster(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::")[0]
            if path in SPLIT_BY_PARAM and "[" in nodeid:
                return path + nodeid[nodeid.index("[") :]
            return path

    return ByFileOrCluster(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A test that reaches an operation its protocol has no place for (``NotOffered``, e.g. a
    deployment strategy over the Open Inference Protocol) is skipped with that reason."""
    try:
        return (yield)
    except NotOffered as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Artifacts trained once per test session and shared by every server the tests start.

    Under pytest-xdist the first worker trains them (about 20 s of CPU) in the session's
    shared folder and the others copy them; each worker keeps its own copy, since the default
    prediction store lives beside it. ``PROTOBENCH_TEST_MODELS`` names a shared folder that
    outlives the session: `make test` gives its parallel and serial runs one training."""
    path = tmp_path_factory.mktemp("models")
    shared_across_runs = os.environ.get("PROTOBENCH_TEST_MODELS")
    if shared_across_runs or os.environ.get("PYTEST_XDIST_WORKER"):
        shared = (
            Path(shared_across_runs)
            if shared_across_runs
            else tmp_path_factory.getbasetemp().parent / "trained-models"
        )
        shared.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{shared}.lock"):
            ModelRegistry(shared).load()  # trains only what is not there yet
        shutil.copytree(shared, path, dirs_exist_ok=True)
    ModelRegistry(path).load()
    return path


@pytest.fixture
def settings(models_dir: Path) -> Settings:
    return Settings(models_dir=models_dir, replica_name="test-replica")


@pytest.fixture
def service(settings: Settings) -> InferenceService:
    service = InferenceService(settings)
    service.load()
    return service
