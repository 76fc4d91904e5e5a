"""One behaviour, every protocol: every test here runs against each protocol's real server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris

from clients import connect
from clients.base import ClientError, InferenceClient
from protobench.core.errors import ErrorCode
from protobench.core.images import features_to_png
from protobench.core.service import InferenceService
from protobench.core.settings import Settings
from protobench.protocols import Protocol, spec
from tests.conformance.conftest import REPLICA
from tests.support.answers import without_id
from tests.support.protocols import skip_unless_offered
from tests.support.servers import running_server

IRIS = load_iris().data
DIGITS = load_digits().data


@pytest.fixture(scope="module")
def reference(models_dir: Path) -> InferenceService:
    """The core, in process: what every protocol must answer, to the last bit."""
    service = InferenceService(Settings(models_dir=models_dir, replica_name=REPLICA))
    service.load()
    return service


def _code(exc: pytest.ExceptionInfo[ClientError]) -> ErrorCode:
    return exc.value.code


def test_health_reports_ready_and_replica(protocol: Protocol, client: InferenceClient) -> None:
    health = client.health()
    assert health.live and health.ready
    if spec(protocol).offers("list_models"):  # a standard protocol's health is two booleans
        assert health.served_by == REPLICA
        assert set(health.models) == {"iris", "digits"}


def test_list_models_equals_core_metadata(
    client: InferenceClient, reference: InferenceService
) -> None:
    assert client.list_models() == reference.list_models()


def test_get_model(client: InferenceClient, reference: InferenceService) -> None:
    iris = client.get_model("iris")
    assert iris == reference.get_model("iris")
    assert iris.labels == ["setosa", "versicolor", "virginica"]
    assert iris.versions == ["1", "2"] and iris.default_version == "2"


def test_get_unknown_model_is_not_found(client: InferenceClient) -> None:
    with pytest.raises(ClientError) as exc:
        client.get_model("no-such-model")
    assert _code(exc) == ErrorCode.NOT_FOUND


@pytest.mark.parametrize("version", [None, "1", "2"])
def test_predict_batch_is_bit_identical_to_the_core(
    client: InferenceClient, reference: InferenceService, version: str | None
) -> None:
    rows = IRIS[::10].tolist()
    answer = client.predict("iris", rows, version)
    expected = reference.predict("iris", rows, version)
    assert without_id(answer) == without_id(expected)
    assert answer.version == (version or "2")


def test_predict_one_instance(client: InferenceClient) -> None:
    answer = client.predict("iris", [[5.1, 3.5, 1.4, 0.2]])
    assert [p.label for p in answer.predictions] == ["setosa"]
    assert sum(answer.predictions[0].probabilities) == pytest.approx(1.0)


def test_predict_integers_are_numbers(client: InferenceClient) -> None:
    assert client.predict("iris", [[5, 3, 1, 0]]).predictions[0].label == "setosa"


def test_predict_the_batch_limit_is_accepted(client: InferenceClient) -> None:
    rows = np.resize(IRIS, (1000, 4)).tolist()
    assert len(client.predict("iris", rows).predictions) == 1000


@pytest.mark.parametrize(
    ("model", "rows", "version", "code"),
    [
        ("iris", [[1.0, 2.0]], None, ErrorCode.INVALID_INPUT),
        ("iris", [[1.0, 2.0, 3.0, 4.0, 5.0]], None, ErrorCode.INVALID_INPUT),
        ("iris", [], None, ErrorCode.INVALID_INPUT),
        ("iris", [[1.0, 2.0, 3.0, 4.0], [1.0, 2.0]], None, ErrorCode.INVALID_INPUT),
        ("iris", [[float("nan"), 2.0, 3.0, 4.0]], None, ErrorCode.INVALID_INPUT),
        ("iris", [[float("inf"), 2.0, 3.0, 4.0]], None, ErrorCode.INVALID_INPUT),
        ("iris", [[1.0, 2.0, 3.0, 4.0]] * 1001, None, ErrorCode.TOO_LARGE),
        ("iris", [[1.0, 2.0, 3.0, 4.0]], "9", ErrorCode.NOT_FOUND),
        ("nope", [[1.0, 2.0, 3.0, 4.0]], None, ErrorCode.NOT_FOUND),
        ("digits", [[1.0, 2.0, 3.0, 4.0]], None, ErrorCode.INVALID_INPUT),
    ],
    ids=[
        "too-few-features", "too-many-features", "empty-batch", "ragged-batch", "nan",
        "infinity", "over-batch-limit", "unknown-version", "unknown-model", "wrong-model-shape",
    ],
)  # fmt: skip
def test_bad_predict_gets_the_same_code_everywhere(
    client: InferenceClient, model: str, rows: list[list[float]], version: str | None,
    code: ErrorCode,
) -> None:  # fmt: skip
    with pytest.raises(ClientError) as exc:
        client.predict(model, rows, version)
    assert _code(exc) == code
    assert exc.value.message
    assert client.health().ready  # the server is still there


def test_predict_image_matches_features(
    client: InferenceClient, reference: InferenceService
) -> None:
    for row in DIGITS[:5]:
        answer = client.predict_image("digits", features_to_png(row))
        expected = reference.predict_image("digits", features_to_png(row))
        assert without_id(answer) == without_id(expected)
        assert (
            answer.predictions[0].label == reference.predict("digits", [row]).predictions[0].label
        )


@pytest.mark.parametrize(
    ("model", "image", "code"),
    [
        ("digits", b"definitely not an image", ErrorCode.INVALID_INPUT),
        ("digits", b"", ErrorCode.INVALID_INPUT),
        ("digits", b"\x89PNG" + b"\0" * (3 * 1024 * 1024), ErrorCode.TOO_LARGE),
        ("iris", features_to_png(DIGITS[0]), ErrorCode.INVALID_INPUT),
        ("nope", features_to_png(DIGITS[0]), ErrorCode.NOT_FOUND),
    ],
    ids=["garbage", "empty", "over-byte-limit", "model-takes-no-images", "unknown-model"],
)
def test_bad_image_gets_the_same_code_everywhere(
    client: InferenceClient, model: str, image: bytes, code: ErrorCode
) -> None:
    with pytest.raises(ClientError) as exc:
        client.predict_image(model, image)
    assert _code(exc) == code
    assert client.health().ready


def test_delete_version(
    protocol: Protocol, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Deleting changes the server, so this test gets a server of its own."""
    skip_unless_offered(protocol, "delete_version")
    workdir = tmp_path_factory.mktemp(f"delete-{protocol}")
    with (
        running_server(protocol, workdir, models_dir) as server,
        connect(protocol, server.target) as client,
    ):
        with pytest.raises(ClientError) as exc:
            client.delete_version("iris", "2")
        assert _code(exc) == ErrorCode.FAILED_PRECONDITION
        with pytest.raises(ClientError) as exc:
            client.delete_version("iris", "7")
        assert _code(exc) == ErrorCode.NOT_FOUND
        with pytest.raises(ClientError) as exc:
            client.delete_version("nope", "1")
        assert _code(exc) == ErrorCode.NOT_FOUND

        assert client.delete_version("iris", "1") is None
        assert client.get_model("iris").versions == ["2"]
        with pytest.raises(ClientError) as exc:
            client.predict("iris", [[5.1, 3.5, 1.4, 0.2]], "1")
        assert _code(exc) == ErrorCode.NOT_FOUND
        assert client.predict("iris", [[5.1, 3.5, 1.4, 0.2]]).version == "2"


def test_model_delay_is_applied(
    protocol: Protocol, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import time

    workdir = tmp_path_factory.mktemp(f"delay-{protocol}")
    with (
        running_server(protocol, workdir, models_dir, "--model-delay-ms", "150") as server,
        connect(protocol, server.target) as client,
    ):
        client.predict("iris", [[5.1, 3.5, 1.4, 0.2]])  # warm the connection
        start = time.perf_counter()
        client.predict("iris", [[5.1, 3.5, 1.4, 0.2]])
        assert time.perf_counter() - start >= 0.15


def test_unreachable_server_is_not_ready(protocol: Protocol) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: nothing answers
        with (
            connect(protocol, f"127.0.0.1:{port}", timeout=2.0) as client,
            pytest.raises(ClientError) as exc,
        ):
            client.health()
    assert _code(exc) == ErrorCode.NOT_READY
