"""Every service operation and every error code, with no transport in between."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.images import features_to_png
from protobench.core.registry import ModelRegistry
from protobench.core.service import OPERATIONS, InferenceService
from protobench.core.settings import Settings
from protobench.core.types import PredictAnswer

SETOSA = [5.1, 3.5, 1.4, 0.2]


def _code(exc: pytest.ExceptionInfo[CoreError]) -> ErrorCode:
    return exc.value.code


def test_operations_are_service_methods() -> None:
    for name in OPERATIONS:
        assert callable(getattr(InferenceService, name)), name


def test_health_and_readiness(settings: Settings) -> None:
    service = InferenceService(settings)
    assert service.health().live and not service.health().ready
    with pytest.raises(CoreError) as exc:
        service.predict("iris", [SETOSA])
    assert _code(exc) == ErrorCode.NOT_READY
    service.load_in_background().join(30)
    health = service.health()
    assert health.ready and health.served_by == "test-replica"
    assert health.models == ["iris", "digits"]


def test_models_are_trained_on_first_use(tmp_path: Path) -> None:
    service = InferenceService(Settings(models_dir=tmp_path))
    service.load()
    assert (tmp_path / "iris" / "1" / "card.json").exists()
    assert (tmp_path / "digits" / "1" / "params.npz").exists()


def test_metadata(service: InferenceService) -> None:
    iris = service.get_model("iris")
    assert iris.versions == ["1", "2"] and iris.default_version == "2"
    assert iris.input.shape == [-1, 4]
    assert [m.name for m in service.list_models()] == ["iris", "digits"]
    assert service.get_model("digits").labels == [str(d) for d in range(10)]
    with pytest.raises(CoreError) as exc:
        service.get_model("nope")
    assert _code(exc) == ErrorCode.NOT_FOUND


def test_predict_one_and_batch(service: InferenceService) -> None:
    one = service.predict("iris", [SETOSA])
    assert one.model == "iris" and one.version == "2" and one.served_by == "test-replica"
    assert one.predictions[0].label == "setosa"
    batch = service.predict("iris", np.array([SETOSA] * 7))
    assert [p.label for p in batch.predictions] == ["setosa"] * 7
    v1 = service.predict("iris", [SETOSA], "1")
    assert v1.version == "1" and v1.predictions[0].probabilities != one.predictions[0].probabilities


def test_predict_without_probabilities(service: InferenceService) -> None:
    answer = service.predict("iris", [SETOSA, [6.2, 2.9, 4.3, 1.3]], probabilities=False)
    assert [p.label for p in answer.predictions] == ["setosa", "versicolor"]
    assert all(p.probabilities == [] for p in answer.predictions)


def test_predict_answer_is_the_response_as_plain_values(service: InferenceService) -> None:
    rows = [SETOSA, [6.2, 2.9, 4.3, 1.3]]
    answer = service.predict("iris", rows, plain=True)
    response = service.predict("iris", rows)
    assert answer.response() == response.model_copy(update={"prediction_id": answer.prediction_id})
    assert answer.fields() == answer.response().model_dump()
    assert answer.prediction_id != response.prediction_id  # one per call
    labels_only = service.predict("iris", rows, probabilities=False, plain=True)
    assert labels_only.labels == ["setosa", "versicolor"] and labels_only.probabilities == [[], []]
    assert PredictAnswer.of(answer.response()) == answer  # and back, as an image answer goes
    assert PredictAnswer.of(labels_only.response()) == labels_only


@pytest.mark.parametrize(
    ("instances", "code"),
    [
        ([], ErrorCode.INVALID_INPUT),
        ([[1.0, 2.0]], ErrorCode.INVALID_INPUT),
        ([[1, 2, 3, 4], [1, 2]], ErrorCode.INVALID_INPUT),
        ([["1", "2", "3", "4"]], ErrorCode.INVALID_INPUT),
        ([[True, False, True, False]], ErrorCode.INVALID_INPUT),
        ([[None, 1, 2, 3]], ErrorCode.INVALID_INPUT),
        ([[float("nan"), 1, 2, 3]], ErrorCode.INVALID_INPUT),
        ([[1, 2, 3, float("-inf")]], ErrorCode.INVALID_INPUT),
        ([1, 2, 3, 4], ErrorCode.INVALID_INPUT),
        ("1,2,3,4", ErrorCode.INVALID_INPUT),
        ([[[1, 2, 3, 4]]], ErrorCode.INVALID_INPUT),
        ([[1, 2, 3, 4]] * 1001, ErrorCode.TOO_LARGE),
        (np.zeros((1001, 4)), ErrorCode.TOO_LARGE),
        (np.zeros((0, 4)), ErrorCode.INVALID_INPUT),
    ],
)
def test_bad_instances(service: InferenceService, instances: object, code: ErrorCode) -> None:
    with pytest.raises(CoreError) as exc:
        service.predict("iris", instances)  # type: ignore[arg-type]
    assert _code(exc) == code
    assert exc.value.message


@pytest.mark.parametrize("probabilities", [True, False])
def test_features_that_overflow_the_model_are_the_callers_error(
    service: InferenceService, probabilities: bool
) -> None:
    """1e308 is a finite float, but the model's dot products overflow on it: answering would
    mean NaN probabilities and a meaningless label, so the row is refused by its index, and
    the version is not charged with a failure."""
    rows = [[5.1, 3.5, 1.4, 0.2], [1e308, 1e308, 1e308, 1e308]]
    with pytest.warns(RuntimeWarning), pytest.raises(CoreError) as exc:
        service.predict("iris", rows, probabilities=probabilities)
    assert _code(exc) == ErrorCode.INVALID_INPUT
    assert exc.value.details == {"instance": 1}
    assert all(v.errors == 0 for v in service.get_strategy("iris").stats)


def test_large_features_within_the_models_range_are_answered(service: InferenceService) -> None:
    """Finite inputs whose sum overflows are told apart from NaN and infinity exactly."""
    with pytest.warns(RuntimeWarning):
        answer = service.predict("iris", [[1e308, 1e308, 0.0, 0.0]], version="1")
    assert answer.predictions[0].label in service.get_model("iris").labels


def test_rows_as_any_sequence(service: InferenceService) -> None:
    as_tuples = service.predict("iris", ((5.1, 3.5, 1.4, 0.2),), plain=True)
    as_lists = service.predict("iris", [[5.1, 3.5, 1.4, 0.2]], plain=True)
    assert as_tuples.probabilities == as_lists.probabilities


def test_batch_limit_is_a_setting(models_dir: Path) -> None:
    service = InferenceService(Settings(models_dir=models_dir, max_batch=2))
    service.load()
    assert len(service.predict("iris", [SETOSA] * 2).predictions) == 2
    with pytest.raises(CoreError) as exc:
        service.predict("iris", [SETOSA] * 3)
    assert _code(exc) == ErrorCode.TOO_LARGE
    assert exc.value.details == {"instances": 3, "limit": 2}


def test_unknown_model_and_version(service: InferenceService) -> None:
    for model, version in (("nope", None), ("iris", "3")):
        with pytest.raises(CoreError) as exc:
            service.predict(model, [SETOSA], version)
        assert _code(exc) == ErrorCode.NOT_FOUND


def test_predict_image_equals_features(service: InferenceService) -> None:
    digits = load_digits()
    for row, target in zip(digits.data[:20], digits.target[:20], strict=True):
        from_image = service.predict_image("digits", features_to_png(row))
        from_features = service.predict("digits", [row])
        assert from_image.predictions[0].label == from_features.predictions[0].label == str(target)


def test_predict_image_any_size_dark_on_light(service: InferenceService) -> None:
    """A big JPEG scan with dark ink on white paper is inverted and shrunk to 8x8."""
    digits = load_digits()
    row = digits.data[3]
    small = Image.fromarray((255 - row.reshape(8, 8) * 255 / 16).astype(np.uint8), mode="L")
    buffer = io.BytesIO()
    small.resize((256, 256), Image.Resampling.NEAREST).save(buffer, format="JPEG", quality=95)
    answer = service.predict_image("digits", buffer.getvalue())
    assert answer.predictions[0].label == str(digits.target[3])


@pytest.mark.parametrize(
    ("model", "image", "code"),
    [
        ("digits", b"", ErrorCode.INVALID_INPUT),
        ("digits", b"GIF89a not allowed", ErrorCode.INVALID_INPUT),
        ("digits", b"\x89PNG\r\n\x1a\n truncated", ErrorCode.INVALID_INPUT),
        ("digits", b"x" * (2 * 1024 * 1024 + 1), ErrorCode.TOO_LARGE),
        ("iris", features_to_png(np.zeros(64)), ErrorCode.INVALID_INPUT),
        ("nope", features_to_png(np.zeros(64)), ErrorCode.NOT_FOUND),
    ],
)
def test_bad_images(service: InferenceService, model: str, image: bytes, code: ErrorCode) -> None:
    with pytest.raises(CoreError) as exc:
        service.predict_image(model, image)
    assert _code(exc) == code


def test_image_bomb_is_refused_before_decoding(service: InferenceService) -> None:
    buffer = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buffer, format="PNG")  # tiny file, 25 M pixels
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(CoreError) as exc:
        service.predict_image("digits", buffer.getvalue())
    assert _code(exc) == ErrorCode.TOO_LARGE


def test_delete_version(models_dir: Path) -> None:
    service = InferenceService(Settings(models_dir=models_dir))
    service.load()
    with pytest.raises(CoreError) as exc:
        service.delete_version("iris", "2")
    assert _code(exc) == ErrorCode.FAILED_PRECONDITION
    with pytest.raises(CoreError) as exc:
        service.delete_version("iris", "5")
    assert _code(exc) == ErrorCode.NOT_FOUND
    assert service.delete_version("iris", "1").versions == ["2"]
    with pytest.raises(CoreError) as exc:
        service.predict("iris", [SETOSA], "1")
    assert _code(exc) == ErrorCode.NOT_FOUND
    with pytest.raises(CoreError) as exc:
        service.delete_version("digits", "1")  # the default, and the last
    assert _code(exc) == ErrorCode.FAILED_PRECONDITION
    assert (models_dir / "iris" / "1" / "card.json").exists()  # unloaded, not erased


def test_delete_is_per_process(models_dir: Path) -> None:
    first = ModelRegistry(models_dir)
    first.load()
    first.delete("iris", "1")
    second = ModelRegistry(models_dir)  # another process, or a restart
    second.load()
    assert first.metadata("iris").versions == ["2"]
    assert second.metadata("iris").versions == ["1", "2"]


def test_model_delay_sync_and_async(models_dir: Path) -> None:
    service = InferenceService(Settings(models_dir=models_dir, model_delay_ms=50))
    service.load()
    start = time.perf_counter()
    service.predict("iris", [SETOSA])
    assert time.perf_counter() - start >= 0.05

    async def eight_at_once() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(service.apredict("iris", [SETOSA]) for _ in range(8)))
        return time.perf_counter() - start

    assert asyncio.run(eight_at_once()) < 8 * 0.05  # the waits overlap: non-blocking


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROTOBENCH_MODEL_DELAY_MS", "20")
    monkeypatch.setenv("PROTOBENCH_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("PROTOBENCH_MAX_BATCH", "5")
    settings = Settings()
    assert settings.model_delay_ms == 20 and settings.models_dir == tmp_path
    assert settings.max_batch == 5
