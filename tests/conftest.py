from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clients.base import NotOffered
from protobench.core.registry import ModelRegistry
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from tests.support.protocols import register_markers


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)


# The longest groups, handed to the workers first so that the short ones fill in at the end.
LONGEST_FIRST = ("tests/scaling/test_balancing.py", "tests/playground/test_playground.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``make test`` (pytest-xdist, ``--dist loadgroup``) a file's tests run on one worker,
    so the servers it shares start once, unless its tests name a finer group (the scaling
    clusters: one group per cluster, so the clusters of one file spread over the workers).
    xdist hands the groups out in collection order, so the longest files come first (a file's
    tests keep their order)."""
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in LONGEST_FIRST)
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


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
    """Artifacts trained once per test session and shared by every server the tests start."""
    path = tmp_path_factory.mktemp("models")
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
