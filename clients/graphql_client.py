"""GraphQL client: named operations with variables, POSTed over HTTP/1.1 (http_transport)."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any, ClassVar

import httpx
import orjson

from clients.base import ClientError
from clients.graphql_operations import (
    DELETE_VERSION,
    FEEDBACK,
    GET_MODEL,
    GET_PREDICTION,
    GET_STRATEGY,
    HEALTH,
    LIST_MODELS,
    LIST_PREDICTIONS,
    PREDICT,
    PREDICT_IMAGE,
    PROMOTE,
    ROLLBACK,
    SET_STRATEGY,
    Operation,
)
from clients.http_transport import HttpAnswer, HttpInferenceClient, HttpRequest
from clients.probe import HttpJsonProbe, Verdict
from protobench.core.types import (
    FeedbackResponse,
    Health,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)
from protobench.error_table import from_http_status
from servers.graphql_spec import from_graphql_code

PATH = "/graphql"


def _error_from(errors: Any, status: int) -> ClientError:
    """The first entry of ``errors[]`` as a ClientError (GraphQL has no single status)."""
    first = errors[0] if isinstance(errors, list) and errors else {}
    first = first if isinstance(first, dict) else {}
    extensions = first.get("extensions")
    extensions = extensions if isinstance(extensions, dict) else {}
    code = extensions.get("code")
    details = extensions.get("details")
    if status == 200 or code is not None:
        error_code = from_graphql_code(code if isinstance(code, str) else None)
    else:
        error_code = from_http_status(status)
    return ClientError(
        error_code,
        str(first.get("message") or f"HTTP {status}"),
        details if isinstance(details, dict) else None,
        protocol_status=code if code is not None else status,
    )


def _data(operation: Operation, response: HttpAnswer) -> Any:
    """The operation's field of ``data``; ``errors[]`` (or a non-JSON answer) raised."""
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        raise _error_from(None, response.status if response.status != 200 else 500)
    if answer.get("errors") or response.status != 200:
        raise _error_from(answer.get("errors"), response.status)
    return answer["data"][operation.field]


# The operations a load test sends, by the client method's name.
LOAD_OPERATIONS = {"list_models": LIST_MODELS, "get_model": GET_MODEL, "predict": PREDICT,
                   "predict_image": PREDICT_IMAGE}  # fmt: skip


class GraphQLClient(HttpInferenceClient):
    protocol = "graphql"

    headers: ClassVar[dict[str, str]] = {
        "content-type": "application/json",
        "accept": "application/json",
    }

    def _request(self, operation: Operation, **variables: Any) -> HttpRequest:
        body = {"query": operation.document, "operationName": operation.name,
                "variables": variables}  # fmt: skip
        return HttpRequest("POST", PATH, orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY))

    def _answer(self, operation: str, answer: HttpAnswer) -> Any:
        return _data(LOAD_OPERATIONS[operation], answer)

    def _call(self, operation: Operation, **variables: Any) -> Any:
        return _data(operation, self._http.request(self._request(operation, **variables)))

    def _list_models_request(self) -> HttpRequest:
        return self._request(LIST_MODELS)

    def _get_model_request(self, name: str) -> HttpRequest:
        return self._request(GET_MODEL, name=name)

    def _predict_request(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> HttpRequest:
        variables = {"model": model, "instances": instances, "version": version, "caller": caller}
        return self._request(PREDICT, **variables)

    def _predict_image_request(
        self, model: str, image: bytes, version: str | None = None
    ) -> HttpRequest:
        encoded = base64.b64encode(image).decode("ascii")
        return self._request(PREDICT_IMAGE, model=model, image=encoded, version=version)

    def delete_version(self, model: str, version: str) -> None:
        self._call(DELETE_VERSION, model=model, version=version)

    def health(self) -> Health:
        return Health.model_validate(self._call(HEALTH))

    def get_strategy(self, model: str) -> StrategyStatus:
        return StrategyStatus.model_validate(_snake(self._call(GET_STRATEGY, model=model)))

    def set_strategy(self, model: str, strategy: StrategyConfig) -> StrategyStatus:
        fields = {_camel(name): value for name, value in strategy.model_dump().items()}
        data = self._call(SET_STRATEGY, model=model, strategy=fields)
        return StrategyStatus.model_validate(_snake(data))

    def promote(self, model: str) -> StrategyStatus:
        return StrategyStatus.model_validate(_snake(self._call(PROMOTE, model=model)))

    def rollback(self, model: str) -> StrategyStatus:
        return StrategyStatus.model_validate(_snake(self._call(ROLLBACK, model=model)))

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        data = self._call(FEEDBACK, id=prediction_id, reward=reward)
        return FeedbackResponse.model_validate(_snake(data))

    def get_prediction(self, prediction_id: str) -> StoredPrediction:
        data = self._call(GET_PREDICTION, id=prediction_id)
        return StoredPrediction.model_validate(_snake(data))

    def list_predictions(
        self, job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]:
        data = self._call(LIST_PREDICTIONS, job=job, limit=limit, offset=offset)
        return [StoredPrediction.model_validate(_snake(p)) for p in data]


def _snake(value: Any) -> Any:
    """An answer's camelCase keys (at every depth) as the core's snake_case field names."""
    if isinstance(value, list):
        return [_snake(item) for item in value]
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): _snake(v) for k, v in value.items()}
    return value


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


class GraphQLProbe(HttpJsonProbe):
    """Raw predict requests for the hardening tests (``clients.probe``); each ``errors[]``
    entry of an answer is one error."""

    path = PATH
    query = (
        'query P($instances: [[Float!]!]!) { predict(model: "iris", instances: $instances) '
        "{ predictions { label } } }"
    )

    def document(self, rows: Any) -> dict[str, Any]:
        return {"query": self.query, "variables": {"instances": rows}}

    def read(self, response: httpx.Response) -> Verdict:
        answer = self.answer(response)
        if not (isinstance(answer, dict) and answer.get("errors")):
            return super().read(response)
        status = response.status_code
        verdict = Verdict(status, text=response.text)
        for error in answer["errors"]:
            code = (error.get("extensions") or {}).get("code")
            verdict.errors.append(
                from_graphql_code(code) if status == 200 or code else from_http_status(status)
            )
        return verdict
