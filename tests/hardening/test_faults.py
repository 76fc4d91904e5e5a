"""Faults: SIGTERM in the middle of calls, and a bounded soak that watches each server's memory.

A replica killed behind nginx or haproxy, restored by the supervisor, is covered by the scaling
suite (tests/scaling/test_balancing.py); it is not repeated here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from clients import connect
from clients.base import ClientError, InferenceClient
from protobench.core.errors import ErrorCode
from protobench.core.images import features_to_png
from protobench.protocols import Protocol, spec
from tests.hardening.wire import IRIS_ROW
from tests.support.protocols import protocol_params
from tests.support.servers import running_server

DELAY_MS = 1500  # long enough that every call is still in the server when SIGTERM comes
IN_FLIGHT = 8
SOAK_S = float(os.environ.get("PROTOBENCH_SOAK_S", "10"))
SOAK_WARMUP_S = 3.0
RSS_GROWTH_LIMIT_MB = 20.0
DIGIT = features_to_png([0.0] * 64)  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", protocol_params())
def test_sigterm_finishes_calls_in_flight_and_refuses_new_ones(
    protocol: Protocol, models_dir: Path, tmp_path: Path
) -> None:
    delay = ("--model-delay-ms", str(DELAY_MS))
    with running_server(protocol, tmp_path, models_dir, *delay) as server:
        clients = [connect(protocol, server.target, timeout=30.0) for _ in range(IN_FLIGHT)]
        for client in clients:
            client.health()  # the connections are open before the calls start
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            calls = [pool.submit(c.predict, "iris", [IRIS_ROW]) for c in clients]
            time.sleep(DELAY_MS / 3000)  # every call has reached the server and is waiting
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.2)
            with (
                connect(protocol, server.target, timeout=5.0) as late,
                pytest.raises(ClientError) as refused,
            ):
                late.predict("iris", [IRIS_ROW])
            assert refused.value.code is ErrorCode.NOT_READY, refused.value
            still_running = not any(call.done() for call in calls)
            answers = [call.result(timeout=30) for call in calls]
        for client in clients:
            client.close()
        assert still_running, "the late call was not tried while the others were in flight"
        assert [a.predictions[0].label for a in answers] == ["setosa"] * IN_FLIGHT  # none lost
        assert server.process.wait(timeout=20) == 0  # a drained stop is not a failure
        assert "Traceback" not in server.log(), server.log()


def _mixed_calls(client: InferenceClient, stop: threading.Event, counts: list[int]) -> None:
    """Good and bad calls of every kind the protocol offers, as fast as one client can send
    them (a standard protocol lists no models: health instead; an unknown model to predict)."""
    offered = spec(client.protocol).offers
    listing = client.list_models if offered("list_models") else client.health
    unknown = (
        (lambda: client.get_model("nope"))
        if offered("get_model")
        else (lambda: client.predict("nope", [IRIS_ROW]))
    )
    while not stop.is_set():
        client.predict("iris", [IRIS_ROW] * 16)
        client.predict_image("digits", DIGIT)
        listing()
        for bad in (lambda: client.predict("iris", [[1.0]]), unknown):
            with contextlib.suppress(ClientError):
                bad()
        counts[0] += 5


def _rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


@pytest.mark.parametrize("protocol", protocol_params())
def test_soak_keeps_memory_flat(protocol: Protocol, models_dir: Path, tmp_path: Path) -> None:
    with running_server(protocol, tmp_path, models_dir) as server:
        stop = threading.Event()
        counts = [0]
        with connect(protocol, server.target) as client:
            worker = threading.Thread(target=_mixed_calls, args=(client, stop, counts))
            worker.start()
            try:
                time.sleep(SOAK_WARMUP_S)
                start_mb, start_calls = _rss_mb(server.process.pid), counts[0]
                time.sleep(SOAK_S)
                end_mb, end_calls = _rss_mb(server.process.pid), counts[0]
            finally:
                stop.set()
                worker.join(timeout=30)
        print(f"{protocol}: {end_calls - start_calls} calls, RSS {start_mb:.1f} -> {end_mb:.1f} MB")
        assert end_calls - start_calls > 100, "the soak did not run"
        assert end_mb - start_mb < RSS_GROWTH_LIMIT_MB, (start_mb, end_mb)


@pytest.mark.parametrize("protocol", protocol_params())
def test_sigint_exits_0_too(protocol: Protocol, models_dir: Path, tmp_path: Path) -> None:
    """One convention on every server (issue 20): a stop asked for by a signal that drained
    exits 0; uvicorn's servers exited 130 after SIGINT where gRPC exited 0."""
    with running_server(protocol, tmp_path, models_dir) as server:
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=20) == 0, server.log()
        assert "Traceback" not in server.log(), server.log()
