"""The measuring parts alone: exact percentiles, windows, intervals, byte classification."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from loadtests.matrix import BenchConfig, cells
from loadtests.native import unusable
from loadtests.runner import more_generator_processes
from loadtests.samples import SampleArrays, Samples, load_samples
from loadtests.stats import confidence_interval, percentile_curve, window_stats
from loadtests.wire import ByteCounts, _Http1Parser, _Http2Parser


def _arrays(latencies_ms: list[float], start: float = 100.0, gap: float = 0.01) -> SampleArrays:
    n = len(latencies_ms)
    sent = start + gap * np.arange(n)
    return SampleArrays(
        intended=sent.copy(),
        sent=sent,
        done=sent + np.array(latencies_ms) / 1000.0,
        predictions=np.ones(n, dtype=np.int64),
        errors=np.array([""] * n, dtype="<U32"),
    )


def test_percentiles_are_exact_not_bucketed() -> None:
    latencies = [float(i) for i in range(1, 1001)]  # 1..1000 ms
    stats = window_stats(_arrays(latencies), 100.0, 110.0)
    assert stats.latency.p50 == pytest.approx(500.0)
    assert stats.latency.p99 == pytest.approx(990.0)
    assert stats.latency.p999 == pytest.approx(999.0)
    assert stats.latency.max == pytest.approx(1000.0)
    assert stats.requests_per_s == pytest.approx(100.0)


def test_window_cuts_warmup_and_counts_errors() -> None:
    arrays = _arrays([5.0] * 300)  # intended 100.00 .. 102.99
    errors = arrays.errors.copy()
    errors[250:] = "TOO_LARGE"
    arrays = SampleArrays(arrays.intended, arrays.sent, arrays.done, arrays.predictions, errors)
    stats = window_stats(arrays, 101.0, 103.0)  # the first second is warm-up
    assert stats.requests == 200 and stats.ok == 150
    assert stats.errors == {"TOO_LARGE": 50}
    assert stats.requests_per_s == pytest.approx(75.0)


def test_corrected_latency_counts_from_the_intended_time() -> None:
    arrays = _arrays([2.0] * 10)
    late = SampleArrays(arrays.intended - 0.5, arrays.sent, arrays.done, arrays.predictions,
                        arrays.errors)  # fmt: skip
    stats = window_stats(late, 99.0, 101.0)
    assert stats.latency.p50 == pytest.approx(2.0)
    assert stats.latency_corrected.p50 == pytest.approx(502.0)


def test_halves_flag_an_unstable_run() -> None:
    steady = _arrays([1.0] * 200)
    assert not window_stats(steady, 100.0, 102.0).unstable
    bursty = SampleArrays(*(np.concatenate([a, a[:100]]) for a in (
        steady.intended, steady.sent, steady.done, steady.predictions, steady.errors)))  # fmt: skip
    assert window_stats(bursty, 100.0, 102.0).unstable


def test_percentile_curve_reaches_the_tail() -> None:
    curve = percentile_curve(np.linspace(0.001, 1.0, 100_000))
    assert curve[0][0] == pytest.approx(50.0, abs=0.1)
    assert curve[-1][0] > 99.99
    assert all(b[1] >= a[1] for a, b in itertools.pairwise(curve))


def test_confidence_interval() -> None:
    one = confidence_interval([10.0])
    assert (one.median, one.low, one.high, one.n) == (10.0, 10.0, 10.0, 1)
    ci = confidence_interval([10.0, 12.0, 11.0, 13.0, 9.0])
    assert ci.median == 11.0 and ci.low < 11.0 < ci.high
    # t(0.975, 4) = 2.7764 from printed tables
    assert ci.high - ci.low == pytest.approx(2 * 2.7764 * math.sqrt(2.5) / math.sqrt(5), rel=1e-4)
    thirteen = confidence_interval([float(v) for v in range(13)])  # 12 degrees of freedom
    # t(0.975, 12) = 2.1788: the copied table held only some rows and used 2.228 (10) here
    half = 2.1788 * float(np.std(range(13), ddof=1)) / math.sqrt(13)
    assert thirteen.high - thirteen.low == pytest.approx(2 * half, rel=1e-4)


def test_samples_round_trip(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    recorder = Samples()
    recorder.add(1.0, 1.5, 2.0, 3, "")
    recorder.add(0.5, 0.5, 0.7, 1, "NOT_FOUND")
    recorder.save(folder)
    merged = load_samples(folder)
    assert list(merged.intended) == [0.5, 1.0]  # sorted by intended time
    assert list(merged.errors) == ["NOT_FOUND", ""]


def test_http1_bytes_are_split_into_headers_and_body() -> None:
    counts = ByteCounts()
    parser = _Http1Parser(counts)
    message = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
    for i in range(0, len(message), 7):  # arrives in pieces
        parser.feed(message[i : i + 7])
    parser.feed(message)
    header = len(message) - 5
    assert (counts.headers, counts.body, counts.framing) == (2 * header, 10, 0)


def test_http2_frames_are_split_into_headers_framing_and_body() -> None:
    def frame(kind: int, stream: int, payload: bytes) -> bytes:
        return (
            len(payload).to_bytes(3, "big") + bytes([kind, 0]) + stream.to_bytes(4, "big") + payload
        )

    message = b"\x00" + (10).to_bytes(4, "big") + b"0123456789"  # one gRPC message
    stream = (
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        + frame(4, 0, b"\x00" * 6)  # SETTINGS
        + frame(1, 1, b"h" * 20)  # HEADERS
        + frame(0, 1, message[:8])  # DATA split mid-message
        + frame(0, 1, message[8:])
    )
    counts = ByteCounts()
    _Http2Parser(counts).feed(stream)
    assert counts.headers == 20
    assert counts.body == 10
    assert counts.framing == 24 + 4 * 9 + 6 + 5
    assert counts.total == len(stream)


def test_matrix_cells() -> None:
    config = BenchConfig(protocols=("rest", "grpc"), replicas=(1, 2), users=(1, 8),
                         balancer="client", repeat=2)  # fmt: skip
    plan = cells(config)
    assert len(plan) == 2 * 2 * 2 * 2
    assert {c.balancer for c in plan if c.replicas == 1} == {"none"}
    assert {c.balancer for c in plan if c.protocol == "rest" and c.replicas == 2} == {"reuseport"}
    assert {c.balancer for c in plan if c.protocol == "grpc" and c.replicas == 2} == {"client"}
    assert len({c.cell_id for c in plan}) == len(plan)
    open_plan = cells(BenchConfig(protocols=("rest",), users=(4, 16), rates=(50.0, 100.0)))
    assert [(c.users, c.rate) for c in open_plan] == [(16, 50.0), (16, 100.0)]


def test_the_runner_names_the_real_user_classes() -> None:
    """Locust lists one class per registered protocol, under the name the runner passes it
    (the spec's) without importing Locust."""
    import subprocess
    import sys

    from loadtests.runner import LOCUSTFILE
    from protobench.protocols import specs

    listed = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--list"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()  # fmt: skip
    assert {s.locust_user for s in specs()} <= set(listed)
    assert "gevent" not in sys.modules or "locust" not in sys.modules


def test_a_generator_bound_cell_gets_one_more_process_while_a_core_is_free() -> None:
    pinned = {
        "pinned": True,
        "server_cpus": [0],
        "generator_cpus": [1, 2],
        "generator_processes": 1,
    }
    assert more_generator_processes(pinned, 0) == {**pinned, "generator_processes": 2}
    assert more_generator_processes({**pinned, "generator_processes": 2}, 0) is None
    assert more_generator_processes(pinned, 1) is None  # the user chose the count


def test_the_native_driver_refuses_what_it_cannot_run() -> None:
    assert unusable(("rest", "grpc"), "iris", open_model=False) is None
    assert "closed-model" in str(unusable(("rest",), "iris", open_model=True))
    assert "iris" in str(unusable(("rest",), "digits-image", open_model=False))
    assert "thrift" in str(unusable(("thrift",), "iris", open_model=False))
