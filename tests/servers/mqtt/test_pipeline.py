"""The lecture's level-1 design (examples/mqtt_pipeline): the image processor publishes digit
frames to the queue and protobench's MQTT estimator answers them all through it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import RunningServer

SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "mqtt_pipeline" / "image_processor.py"

pytestmark = pytest.mark.mqtt


def test_frames_go_through_the_queue_and_come_back_classified(embedded: RunningServer) -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), embedded.target, "--images", "30"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert embedded.process.poll() is None, embedded.log()
    assert run.returncode == 0, run.stderr
    assert "30 frames answered through the queue" in run.stdout
    accuracy = re.search(r"accuracy ([0-9.]+)", run.stdout)
    assert accuracy is not None, run.stdout
    # The processed frames must still be readable digits: far above chance (0.1).
    assert float(accuracy.group(1)) >= 0.8, run.stdout
