"""JSON-RPC 2.0 client over HTTP/1.1 (clients.http_transport), with an optional batch call."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import httpx
import orjson

from clients.base import ClientError
from clients.http_transport import HttpAnswer, HttpInferenceClient, HttpRequest
from clients.probe import HttpJsonProbe, Verdict
from protobench.core.errors import ErrorCode
from protobench.core.types import (
    DeleteVersionResponse,
    FeedbackResponse,
    Health,
    ModelMetadata,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)
from protobench.error_table import from_http_status
from servers.jsonrpc_spec import JSONRPC_CODE

PATH = "/jsonrpc"

Call = tuple[str, Mapping[str, Any] | None]


def _models(result: Any) -> list[ModelMetadata]:
    return [ModelMetadata.model_validate(m) for m in result]


def _stored(result: Any) -> list[StoredPrediction]:
    return [StoredPrediction.model_validate(p) for p in result]


# How each method's result becomes a core type; a method not listed returns its raw JSON.
DECODERS: dict[str, Callable[[Any], Any]] = {
    "list_models": _models,
    "get_model": ModelMetadata.model_validate,
    "predict": PredictResponse.model_validate,
    "predict_image": PredictResponse.model_validate,
    "delete_version": DeleteVersionResponse.model_validate,
    "health": Health.model_validate,
    "get_strategy": StrategyStatus.model_validate,
    "set_strategy": StrategyStatus.model_validate,
    "promote": StrategyStatus.model_validate,
    "rollback": StrategyStatus.model_validate,
    "feedback": FeedbackResponse.model_validate,
    "get_prediction": StoredPrediction.model_validate,
    "list_predictions": _stored,
}


def _decode(method: str, result: Any) -> Any:
    decoder = DECODERS.get(method)
    return result if decoder is None else decoder(result)


def _result(response: Any) -> Any:
    """The ``result`` of a Response object; its ``error`` raised as a ClientError."""
    if not isinstance(response, dict) or not ("result" in response or "error" in response):
        raise ClientError(ErrorCode.INTERNAL, f"not a JSON-RPC response: {response!r:.200}")
    error = response.get("error")
    if error is None:
        return response.get("result")
    code = error.get("code") if isinstance(error, dict) else None
    data = error.get("data") if isinstance(error, dict) else None
    details = data.get("details") if isinstance(data, dict) else None
    raise ClientError(
        JSONRPC_CODE.to_core(code) if isinstance(code, int) else ErrorCode.INTERNAL,
        str(error.get("message") if isinstance(error, dict) else error),
        details if isinstance(details, dict) else None,
        protocol_status=code,
    )


def _parsed(response: HttpAnswer) -> Any:
    if response.status != 200:
        raise ClientError(
            from_http_status(response.status),
            f"HTTP {response.status} {response.reason} from {PATH}",
            protocol_status=response.status,
        )
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise ClientError(ErrorCode.INTERNAL, "the server's answer is not JSON") from exc


class JsonRpcClient(HttpInferenceClient):
    protocol = "jsonrpc"

    headers: ClassVar[dict[str, str]] = {"content-type": "application/json"}

    # Request ids, unique across the clients of a process (answers are matched by id).
    _ids: ClassVar[Iterator[int]] = itertools.count(1)

    def _request(self, method: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        request: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": next(self._ids)}
        if params:
            request["params"] = params
        return request

    def _encode(self, payload: object) -> HttpRequest:
        return HttpRequest("POST", PATH, orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY))

    def _post(self, payload: object) -> Any:
        return _parsed(self._http.request(self._encode(payload)))

    def _answer(self, operation: str, answer: HttpAnswer) -> Any:
        return _result(_parsed(answer))

    def _call_request(self, method: str, params: Mapping[str, Any] | None = None) -> HttpRequest:
        return self._encode(self._request(method, params))

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """One call; its result decoded to core types (raw JSON for methods not in DECODERS)."""
        return _decode(method, _result(self._post(self._request(method, params))))

    def batch(self, calls: Sequence[Call]) -> list[Any]:
        """Several calls in one HTTP request: a decoded result or a ClientError per call, in the
        order given (the server may answer in any order; answers are matched by id)."""
        if not calls:
            return []  # an empty batch is an invalid request; there is nothing to send
        requests = [self._request(method, params) for method, params in calls]
        answer = self._post(requests)
        if not isinstance(answer, list):  # the batch as a whole was refused
            _result(answer)
            raise ClientError(ErrorCode.INTERNAL, "a batch was answered by a single result")
        by_id = {reply.get("id"): reply for reply in answer if isinstance(reply, dict)}
        outcomes: list[Any] = []
        for request in requests:
            reply = by_id.get(request["id"])
            try:
                if reply is None:
                    raise ClientError(ErrorCode.INTERNAL, f"no answer to call {request['id']}")
                outcomes.append(_decode(request["method"], _result(reply)))
            except ClientError as exc:
                outcomes.append(exc)
        return outcomes

    def _list_models_request(self) -> HttpRequest:
        return self._call_request("list_models")

    def _get_model_request(self, name: str) -> HttpRequest:
        return self._call_request("get_model", {"name": name})

    def _predict_request(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> HttpRequest:
        params: dict[str, Any] = {"model": model, "instances": instances}
        if version is not None:
            params["version"] = version
        if caller is not None:
            params["caller"] = caller
        return self._call_request("predict", params)

    def _predict_image_request(
        self, model: str, image: bytes, version: str | None = None
    ) -> HttpRequest:
        params: dict[str, Any] = {"model": model, "image": base64.b64encode(image).decode()}
        if version is not None:
            params["version"] = version
        return self._call_request("predict_image", params)

    def delete_version(self, model: str, version: str) -> None:
        self.call("delete_version", {"model": model, "version": version})

    def health(self) -> Health:
        health: Health = self.call("health")
        return health

    def get_strategy(self, model: str) -> StrategyStatus:
        status: StrategyStatus = self.call("get_strategy", {"model": model})
        return status

    def set_strategy(self, model: str, strategy: StrategyConfig) -> StrategyStatus:
        params = {"model": model, "strategy": strategy.model_dump()}
        status: StrategyStatus = self.call("set_strategy", params)
        return status

    def promote(self, model: str) -> StrategyStatus:
        status: StrategyStatus = self.call("promote", {"model": model})
        return status

    def rollback(self, model: str) -> StrategyStatus:
        status: StrategyStatus = self.call("rollback", {"model": model})
        return status

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        params = {"prediction_id": prediction_id, "reward": reward}
        answer: FeedbackResponse = self.call("feedback", params)
        return answer

    def get_prediction(self, prediction_id: str) -> StoredPrediction:
        stored: StoredPrediction = self.call("get_prediction", {"prediction_id": prediction_id})
        return stored

    def list_predictions(
        self, job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]:
        params = {"job": job, "limit": limit, "offset": offset}
        page: list[StoredPrediction] = self.call("list_predictions", params)
        return page


class JsonRpcProbe(HttpJsonProbe):
    """Raw predict requests for the hardening tests (``clients.probe``); every reply of a
    200 (one, or a batch) is read for its error."""

    path = PATH

    def document(self, rows: Any) -> dict[str, Any]:
        params = {"model": "iris", "instances": rows}
        return {"jsonrpc": "2.0", "id": 1, "method": "predict", "params": params}

    def read(self, response: httpx.Response) -> Verdict:
        if response.status_code != 200:
            return super().read(response)
        answer = self.answer(response)
        verdict = Verdict(response.status_code, text=response.text)
        for reply in answer if isinstance(answer, list) else [answer]:
            if not isinstance(reply, dict) or ("error" not in reply and "result" not in reply):
                verdict.errors.append(ErrorCode.INTERNAL)  # not a JSON-RPC response at all
            elif reply.get("error") is not None:
                verdict.errors.append(JSONRPC_CODE.to_core(reply["error"]["code"]))
        return verdict
