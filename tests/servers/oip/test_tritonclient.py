"""Triton's client, unchanged and with its defaults, against both OIP adapters: binary tensors
over HTTP (its default), ``raw_output_contents`` over gRPC; answers bit-identical to the core."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from protobench.core.images import features_to_png
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from tests.servers.oip.triton_driver import ROWS
from tests.support.servers import RunningServer

STATUS = {  # how tritonclient reports each code: the HTTP status, or the gRPC StatusCode
    "http": {"NOT_FOUND": "404", "INVALID_INPUT": "400"},
    "grpc": {"NOT_FOUND": "StatusCode.NOT_FOUND", "INVALID_INPUT": "StatusCode.INVALID_ARGUMENT"},
}


@pytest.fixture(scope="module")
def reference(models_dir: Path) -> InferenceService:
    service = InferenceService(Settings(models_dir=models_dir))
    service.load()
    return service


def _drive(kind: str, server: RunningServer) -> dict[str, Any]:
    finished = subprocess.run(
        [sys.executable, "-m", "tests.servers.oip.triton_driver", kind, server.target],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-3000:]
    seen: dict[str, Any] = json.loads(finished.stdout)
    return seen


@pytest.mark.parametrize(
    ("kind", "fixture"),
    [
        pytest.param("http", "oip_rest", marks=pytest.mark.oip_rest, id="http"),
        pytest.param("grpc", "oip_grpc", marks=pytest.mark.oip_grpc, id="grpc"),
    ],
)
def test_tritonclient_with_its_defaults(
    kind: str, fixture: str, request: pytest.FixtureRequest, reference: InferenceService
) -> None:
    server: RunningServer = request.getfixturevalue(fixture)
    seen = _drive(kind, server)
    assert (seen["live"], seen["ready"], seen["model_ready"], seen["version_ready"]) == (
        True, True, True, True,
    )  # fmt: skip
    assert "binary_tensor_data" in seen["server_metadata"]["extensions"]
    metadata = seen["model_metadata"]
    tensors = {
        side: [(t["name"], t["datatype"], [int(d) for d in t["shape"]]) for t in metadata[side]]
        for side in ("inputs", "outputs")
    }
    assert tensors == {
        "inputs": [("features", "FP64", [-1, 4])],
        "outputs": [("label", "BYTES", [-1]), ("probabilities", "FP64", [-1, 3])],
    }
    expected = reference.predict("iris", ROWS)
    assert seen["labels"] == [p.label for p in expected.predictions]
    assert seen["probabilities"] == [p.probabilities for p in expected.predictions]  # to the bit
    version_1 = reference.predict("iris", ROWS, "1")
    assert seen["version_1_labels"] == [p.label for p in version_1.predictions]
    assert seen["fp32_label"] == "setosa"
    digit = reference.predict_image("digits", features_to_png(reference_digit()))
    assert seen["image_label"] == digit.predictions[0].label
    status = STATUS[kind]
    errors = seen["errors"]
    assert errors["unknown_model"]["status"] == status["NOT_FOUND"]
    assert errors["unknown_version"]["status"] == status["NOT_FOUND"]
    assert errors["wrong_input"]["status"] == status["INVALID_INPUT"]
    assert "pixels" in errors["wrong_input"]["message"]


def reference_digit() -> Any:
    from sklearn.datasets import load_digits

    return load_digits().data[0]
