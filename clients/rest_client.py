"""REST client over one pooled httpx connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from clients.base import ClientError
from clients.http_transport import HttpInferenceClient
from clients.probe import HttpJsonProbe
from protobench.core.errors import ErrorCode
from protobench.core.types import (
    FeedbackResponse,
    Health,
    ModelMetadata,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)
from protobench.error_table import from_http_status

IMAGE_MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


class RestClient(HttpInferenceClient):
    protocol = "rest"

    def _call(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ClientError(
                ErrorCode.DEADLINE_EXCEEDED, f"no answer within {self.timeout}s"
            ) from exc
        except httpx.TransportError as exc:
            raise ClientError(ErrorCode.NOT_READY, f"cannot reach {self.target}: {exc}") from exc
        if response.status_code in ok:
            return orjson.loads(response.content) if response.content else None
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        code = str(body.get("code"))
        raise ClientError(
            ErrorCode(code)
            if code in ErrorCode.__members__
            else from_http_status(response.status_code),
            str(body.get("message") or response.reason_phrase),
            body.get("details") if isinstance(body.get("details"), dict) else None,
            protocol_status=response.status_code,
        )

    def list_models(self) -> list[ModelMetadata]:
        return [ModelMetadata.model_validate(m) for m in self._call("GET", "/models")]

    def get_model(self, name: str) -> ModelMetadata:
        return ModelMetadata.model_validate(self._call("GET", f"/models/{name}"))

    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        body: dict[str, Any] = {"instances": instances}
        if version is not None:
            body["version"] = version
        if caller is not None:
            body["caller"] = caller
        content = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
        data = self._call(
            "POST",
            f"/models/{model}/predict",
            content=content,
            headers={"content-type": "application/json"},
        )
        return PredictResponse.model_validate(data)

    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse:
        content_type = next(
            (t for magic, t in IMAGE_MAGIC.items() if image.startswith(magic)), "image/png"
        )
        params = {"version": version} if version is not None else None
        data = self._call(
            "PUT",
            f"/models/{model}/image",
            content=image,
            params=params,
            headers={"content-type": content_type},
        )
        return PredictResponse.model_validate(data)

    def delete_version(self, model: str, version: str) -> None:
        self._call("DELETE", f"/models/{model}/versions/{version}", ok=(204,))

    def health(self) -> Health:
        return Health.model_validate(self._call("GET", "/health/ready", ok=(200, 503)))

    def get_strategy(self, model: str) -> StrategyStatus:
        return StrategyStatus.model_validate(self._call("GET", f"/models/{model}/strategy"))

    def set_strategy(self, model: str, strategy: StrategyConfig) -> StrategyStatus:
        data = self._call("PUT", f"/models/{model}/strategy", json=strategy.model_dump())
        return StrategyStatus.model_validate(data)

    def promote(self, model: str) -> StrategyStatus:
        data = self._call("POST", f"/models/{model}/strategy/promote")
        return StrategyStatus.model_validate(data)

    def rollback(self, model: str) -> StrategyStatus:
        data = self._call("POST", f"/models/{model}/strategy/rollback")
        return StrategyStatus.model_validate(data)

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        body = {"prediction_id": prediction_id, "reward": reward}
        return FeedbackResponse.model_validate(self._call("POST", "/feedback", json=body))

    def get_prediction(self, prediction_id: str) -> StoredPrediction:
        job, _, input_id = prediction_id.partition("/")
        path = f"/predictions/{quote(job, safe='')}/{quote(input_id, safe='')}"
        return StoredPrediction.model_validate(self._call("GET", path))

    def list_predictions(
        self, job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]:
        params = {"limit": limit, "offset": offset}
        data = self._call("GET", f"/jobs/{quote(job, safe='')}/predictions", params=params)
        return [StoredPrediction.model_validate(p) for p in data]


class RestProbe(HttpJsonProbe):
    """Raw predict requests for the hardening tests (``clients.probe``)."""

    path = "/models/iris/predict"

    def document(self, rows: Any) -> dict[str, Any]:
        return {"instances": rows}
