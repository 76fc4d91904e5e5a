"""REST client: JSON over HTTP/1.1 (the transport: clients.http_transport)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from lxml import etree

from clients.base import ClientError
from clients.http_transport import HttpAnswer, HttpInferenceClient, HttpRequest, Transport
from clients.probe import HttpJsonProbe
from protobench.core.errors import ErrorCode
from protobench.core.types import (
    FeedbackResponse,
    Health,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)
from protobench.error_table import from_http_status
from protobench.xml_documents import from_xml

IMAGE_MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg"}


Decode = Callable[[bytes], Any]


def _payload(answer: HttpAnswer, ok: tuple[int, ...], decode: Decode = orjson.loads) -> Any:
    """The decoded body of an expected status; any other status raised as a ClientError with
    the code the body names (or the status's row of the error table)."""
    if answer.status in ok:
        return decode(answer.content) if answer.content else None
    try:
        body = decode(answer.content)
    except (orjson.JSONDecodeError, etree.XMLSyntaxError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("code"))
    raise ClientError(
        ErrorCode(code) if code in ErrorCode.__members__ else from_http_status(answer.status),
        str(body.get("message") or answer.reason),
        body.get("details") if isinstance(body.get("details"), dict) else None,
        protocol_status=answer.status,
    )


JSON = "application/json"


def _segment(value: str) -> str:
    """A value as one path segment (a slash in a model name cannot make two)."""
    return quote(value, safe="")


def _models(model: str) -> str:
    return f"/models/{_segment(model)}"


def _json(method: str, path: str, body: object = None) -> HttpRequest:
    if body is None:
        return HttpRequest(method, path)
    return HttpRequest(method, path, orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), JSON)


class RestClient(HttpInferenceClient):
    protocol = "rest"

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 10.0,
        api_key: str | None = None,
        tls_ca: str | Path | None = None,
        transport: Transport = "httpx",
        xml: bool = False,
    ) -> None:
        """``xml`` asks for every answer as XML (``Accept: application/xml``) and reads it
        back (``protobench.xml_documents``); JSON otherwise, the default."""
        self._xml = xml
        self._decode: Decode = from_xml if xml else orjson.loads
        super().__init__(
            target, timeout=timeout, api_key=api_key, tls_ca=tls_ca, transport=transport
        )

    def _headers(self) -> dict[str, str]:
        headers = super()._headers()
        if self._xml:
            headers["accept"] = "application/xml"
        return headers

    def _call(self, request: HttpRequest, *, ok: tuple[int, ...] = (200,)) -> Any:
        return _payload(self._http.request(request), ok, self._decode)

    def _answer(self, operation: str, answer: HttpAnswer) -> Any:
        return _payload(answer, (200,), self._decode)

    def _list_models_request(self) -> HttpRequest:
        return HttpRequest("GET", "/models")

    def _get_model_request(self, name: str) -> HttpRequest:
        return HttpRequest("GET", _models(name))

    def _predict_request(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> HttpRequest:
        body: dict[str, Any] = {"instances": instances}
        if version is not None:
            body["version"] = version
        if caller is not None:
            body["caller"] = caller
        return _json("POST", f"{_models(model)}/predict", body)

    def _predict_image_request(
        self, model: str, image: bytes, version: str | None = None
    ) -> HttpRequest:
        content_type = next(
            (t for magic, t in IMAGE_MAGIC.items() if image.startswith(magic)), "image/png"
        )
        query = f"?{urlencode({'version': version})}" if version is not None else ""
        return HttpRequest("PUT", f"{_models(model)}/image{query}", image, content_type)

    def delete_version(self, model: str, version: str) -> None:
        self._call(
            HttpRequest("DELETE", f"{_models(model)}/versions/{_segment(version)}"), ok=(204,)
        )

    def health(self) -> Health:
        return Health.model_validate(self._call(HttpRequest("GET", "/health/ready"), ok=(200, 503)))

    def get_strategy(self, model: str) -> StrategyStatus:
        return StrategyStatus.model_validate(
            self._call(HttpRequest("GET", f"{_models(model)}/strategy"))
        )

    def set_strategy(self, model: str, strategy: StrategyConfig) -> StrategyStatus:
        data = self._call(_json("PUT", f"{_models(model)}/strategy", strategy.model_dump()))
        return StrategyStatus.model_validate(data)

    def promote(self, model: str) -> StrategyStatus:
        data = self._call(HttpRequest("POST", f"{_models(model)}/strategy/promote"))
        return StrategyStatus.model_validate(data)

    def rollback(self, model: str) -> StrategyStatus:
        data = self._call(HttpRequest("POST", f"{_models(model)}/strategy/rollback"))
        return StrategyStatus.model_validate(data)

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        body = {"prediction_id": prediction_id, "reward": reward}
        return FeedbackResponse.model_validate(self._call(_json("POST", "/feedback", body)))

    def get_prediction(self, prediction_id: str) -> StoredPrediction:
        job, _, input_id = prediction_id.partition("/")
        path = f"/predictions/{_segment(job)}/{_segment(input_id)}"
        return StoredPrediction.model_validate(self._call(HttpRequest("GET", path)))

    def list_predictions(
        self, job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]:
        query = urlencode({"limit": limit, "offset": offset})
        data = self._call(HttpRequest("GET", f"/jobs/{_segment(job)}/predictions?{query}"))
        return [StoredPrediction.model_validate(p) for p in data]


class RestProbe(HttpJsonProbe):
    """Raw predict requests for the hardening tests (``clients.probe``)."""

    path = "/models/iris/predict"

    def document(self, rows: Any) -> dict[str, Any]:
        return {"instances": rows}
