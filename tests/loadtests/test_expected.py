"""Expected capacity, scaling efficiency and the overcommitted flag, from cells as the runner
records them (the arithmetic; the measured side is in tests/scaling/test_scaling_truth.py)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from loadtests.expected import expected_capacity, overcommitted, scaling_rows, server_cores


def _cell(replicas: int, rps: float, **extra: Any) -> dict[str, Any]:
    cell = {
        "protocol": "rest", "replicas": replicas, "balancer": "nginx", "users": 32,
        "rate": None, "batch": 1, "payload": "iris", "repeat": 0, "requests_per_s": rps,
        "model_delay_ms": 0.0, "model_workers": 1, "model_service_ms": 10.0,
        "model_cpu_ms": 0.0, "cpu_quota": None, "cpu": {"server_us_per_request": 500.0},
        "pinning": {"generator_cpus": [1]},
    }  # fmt: skip
    return {**cell, **extra}


def test_capacity_limited_model_expects_n_k_1000_over_s() -> None:
    expected = expected_capacity(_cell(4, 390.0))
    assert expected is not None and expected.requests_per_s == pytest.approx(400.0)
    assert expected.bound_by == "4×1×1000/10 ms"


def test_the_load_bounds_it_too() -> None:
    closed = expected_capacity(_cell(4, 0.0, users=2))
    assert closed is not None and closed.requests_per_s == pytest.approx(200.0)
    opened = expected_capacity(_cell(2, 0.0, rate=150.0))
    assert opened is not None and opened.requests_per_s == pytest.approx(150.0)


def test_a_cpu_quota_expects_n_f_over_cpu_seconds_per_request() -> None:
    quota = {"cpus_per_replica": 0.25, "method": "cgroup-v1"}
    cell = _cell(2, 0.0, model_workers=0, model_service_ms=0.0, cpu_quota=quota,
                 cpu={"server_us_per_request": 2500.0})  # fmt: skip
    expected = expected_capacity(cell)
    assert expected is not None and expected.requests_per_s == pytest.approx(200.0)


def test_nothing_by_design_expects_nothing() -> None:
    assert expected_capacity(_cell(1, 900.0, model_workers=0, model_service_ms=0.0)) is None


def test_efficiency_is_against_n_times_one_replica_and_shortfalls_are_flagged() -> None:
    document = {
        "config": {"replica_cpus": None},
        "cells": [_cell(1, 98.0), _cell(2, 190.0), _cell(4, 300.0)],
    }
    rows = scaling_rows(document)
    assert [round(r.efficiency or 0, 3) for r in rows] == [1.0, round(190 / 196, 3), 0.765]
    assert [r.flags for r in rows] == [(), (), ("below-expected",)]
    opened = scaling_rows({**document, "cells": [_cell(1, 75.0, rate=75.0),
                                                 _cell(2, 75.0, rate=75.0)]})  # fmt: skip
    assert [r.efficiency for r in opened] == [None, None]


def test_quotas_beyond_the_machine_are_overcommitted() -> None:
    cores = os.cpu_count() or 1
    assert not overcommitted(1, None, 1)
    assert not overcommitted(1, (cores - 1) / 1, 1)
    assert overcommitted(2, cores / 2, 1)
    assert server_cores(2, 0.25) == 1 and server_cores(3, None) == 3 and server_cores(3, 0.5) == 2
