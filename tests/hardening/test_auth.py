"""The optional API key, over every protocol: every operation but health needs it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from clients import connect
from clients.base import ClientError, InferenceClient
from protobench.core.errors import ErrorCode
from protobench.core.images import features_to_png
from protobench.core.service import OPERATIONS
from protobench.core.types import StrategyConfig
from protobench.protocols import Protocol, spec
from tests.hardening.conftest import API_KEY, server_for
from tests.support.protocols import protocol_params
from tests.support.servers import RunningServer, running_server

IRIS = [[5.1, 3.5, 1.4, 0.2]]
DIGIT = features_to_png([0.0] * 64)  # type: ignore[arg-type]

# Every operation but health, as a call on a client.
GUARDED: dict[str, Callable[[InferenceClient], object]] = {
    "list_models": lambda c: c.list_models(),
    "get_model": lambda c: c.get_model("iris"),
    "predict": lambda c: c.predict("iris", IRIS),
    "predict_image": lambda c: c.predict_image("digits", DIGIT),
    "delete_version": lambda c: c.delete_version("iris", "no-such-version"),
    "get_strategy": lambda c: c.get_strategy("iris"),
    "set_strategy": lambda c: c.set_strategy("iris", StrategyConfig()),
    "promote": lambda c: c.promote("iris"),
    "rollback": lambda c: c.rollback("iris"),
    "feedback": lambda c: c.feedback("no-such-prediction", 1.0),
    "get_prediction": lambda c: c.get_prediction("no-such-prediction"),
    "list_predictions": lambda c: c.list_predictions("no-such-job"),
}


def test_every_operation_but_health_is_tried() -> None:
    assert set(GUARDED) == set(OPERATIONS) - {"health"}, "add the new operation to GUARDED"


@pytest.fixture(scope="module", params=protocol_params())
def server(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with server_for(
        request, models_dir, tmp_path_factory, {"PROTOBENCH_API_KEY": API_KEY}
    ) as running:
        yield running


def _expected_status(protocol: Protocol) -> object:
    return spec(protocol).errors.code(ErrorCode.UNAUTHENTICATED)


@pytest.mark.parametrize("operation", sorted(GUARDED))
@pytest.mark.parametrize("key", [None, "wrong-key", API_KEY + "x"], ids=repr)
def test_every_operation_but_health_needs_the_key(
    server: RunningServer, operation: str, key: str | None
) -> None:
    with (
        connect(server.protocol, server.target, api_key=key) as client,
        pytest.raises(ClientError) as refused,
    ):
        GUARDED[operation](client)
    assert refused.value.code is ErrorCode.UNAUTHENTICATED
    assert refused.value.protocol_status == _expected_status(server.protocol)
    assert "Bearer" in refused.value.message


def test_health_needs_no_key(server: RunningServer) -> None:
    with connect(server.protocol, server.target) as client:
        assert client.health().ready


def test_the_key_opens_every_operation(server: RunningServer) -> None:
    with connect(server.protocol, server.target, api_key=API_KEY) as client:
        assert {m.name for m in client.list_models()} >= {"iris", "digits"}
        assert client.get_model("iris").name == "iris"
        assert client.predict("iris", IRIS).predictions[0].label == "setosa"
        assert client.predict_image("digits", DIGIT).predictions
        with pytest.raises(ClientError) as missing:
            client.delete_version("iris", "no-such-version")
        assert missing.value.code is ErrorCode.NOT_FOUND


@pytest.mark.rest
def test_rest_refusal_names_the_scheme(models_dir: Path, tmp_path: Path) -> None:
    with running_server("rest", tmp_path, models_dir, "--api-key", API_KEY) as server:
        answer = httpx.get(f"http://{server.target}/models")
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["code"] == "UNAUTHENTICATED"
        scheme_wrong = httpx.get(
            f"http://{server.target}/models", headers={"authorization": f"Basic {API_KEY}"}
        )
        assert scheme_wrong.status_code == 401
        lower_scheme = httpx.get(
            f"http://{server.target}/models", headers={"authorization": f"bearer {API_KEY}"}
        )
        assert lower_scheme.status_code == 200
