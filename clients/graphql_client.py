"""GraphQL client: named operations with variables, POSTed over one pooled httpx connection."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, ClassVar

import httpx
import orjson

from clients.base import ClientError
from clients.graphql_operations import (
    DELETE_VERSION,
    GET_MODEL,
    HEALTH,
    LIST_MODELS,
    PREDICT,
    PREDICT_IMAGE,
    Operation,
)
from clients.http_transport import HttpInferenceClient
from protobench.core.errors import ErrorCode
from protobench.core.types import Health, ModelMetadata, PredictResponse
from protobench.error_table import from_graphql_code, from_http_status

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


class GraphQLClient(HttpInferenceClient):
    protocol = "graphql"

    headers: ClassVar[dict[str, str]] = {
        "content-type": "application/json",
        "accept": "application/json",
    }

    def _call(self, operation: Operation, **variables: Any) -> Any:
        body = {
            "query": operation.document,
            "operationName": operation.name,
            "variables": variables,
        }
        content = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
        try:
            response = self._http.post(PATH, content=content)
        except httpx.TimeoutException as exc:
            raise ClientError(
                ErrorCode.DEADLINE_EXCEEDED, f"no answer within {self.timeout}s"
            ) from exc
        except httpx.TransportError as exc:
            raise ClientError(ErrorCode.NOT_READY, f"cannot reach {self.target}: {exc}") from exc
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            answer = None
        if not isinstance(answer, dict):
            raise _error_from(None, response.status_code if response.status_code != 200 else 500)
        if answer.get("errors") or response.status_code != 200:
            raise _error_from(answer.get("errors"), response.status_code)
        return answer["data"][operation.field]

    def list_models(self) -> list[ModelMetadata]:
        return [ModelMetadata.model_validate(m) for m in self._call(LIST_MODELS)]

    def get_model(self, name: str) -> ModelMetadata:
        return ModelMetadata.model_validate(self._call(GET_MODEL, name=name))

    def predict(
        self, model: str, instances: Sequence[Sequence[float]], version: str | None = None
    ) -> PredictResponse:
        data = self._call(PREDICT, model=model, instances=instances, version=version)
        return PredictResponse.model_validate(data)

    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse:
        encoded = base64.b64encode(image).decode("ascii")
        data = self._call(PREDICT_IMAGE, model=model, image=encoded, version=version)
        return PredictResponse.model_validate(data)

    def delete_version(self, model: str, version: str) -> None:
        self._call(DELETE_VERSION, model=model, version=version)

    def health(self) -> Health:
        return Health.model_validate(self._call(HEALTH))
