"""Fixtures for the report tests: the fixed results document and a Chromium work folder."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURE = Path(__file__).with_name("fixtures") / "results.json"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "bench: runs a real (short) `protobench bench` before testing its output"
    )


@pytest.fixture
def results() -> Path:
    return FIXTURE
