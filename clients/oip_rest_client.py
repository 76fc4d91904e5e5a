"""Open Inference Protocol (V2) REST client over one pooled httpx connection.

Like Triton's own client by default, it sends the features as raw FP64 bytes and asks for
every output in binary (the binary tensor extension: ``Inference-Header-Content-Length``).
The model's input name comes from its metadata, read once per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import orjson

from clients.base import ClientError
from clients.http_transport import HttpInferenceClient
from clients.oip_common import (
    IMAGE_INPUT,
    LABEL,
    PROBABILITIES,
    OipClient,
    features,
    predict_response,
)
from clients.probe import HttpJsonProbe, Verdict
from protobench.core.errors import ErrorCode
from protobench.core.types import Health, PredictResponse
from protobench.oip_tensors import join_bytes, split_bytes
from servers.oip_rest_spec import OIP_HTTP_STATUS

HEADER_LENGTH = "inference-header-content-length"


def model_path(model: str, version: str | None) -> str:
    path = f"/v2/models/{quote(model, safe='')}"
    return path if version is None else f"{path}/versions/{quote(version, safe='')}"


def binary_request(document: dict[str, Any], *chunks: bytes) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a request whose inputs follow its JSON as raw bytes."""
    head = orjson.dumps(document)
    return b"".join((head, *chunks)), {HEADER_LENGTH: str(len(head))}


def error_of(response: httpx.Response) -> ClientError:
    try:
        message = orjson.loads(response.content).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        message = None
    return ClientError(
        OIP_HTTP_STATUS.to_core(response.status_code),
        str(message or response.reason_phrase),
        protocol_status=response.status_code,
    )


class OipRestClient(OipClient, HttpInferenceClient):
    protocol = "oip-rest"

    def __init__(self, target: str, **options: Any) -> None:
        super().__init__(target, **options)
        self._inputs: dict[str, str] = {}

    def _send(
        self, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ClientError(
                ErrorCode.DEADLINE_EXCEEDED, f"no answer within {self.timeout}s"
            ) from exc
        except httpx.TransportError as exc:
            raise ClientError(ErrorCode.NOT_READY, f"cannot reach {self.target}: {exc}") from exc
        if response.status_code not in ok:
            raise error_of(response)
        return response

    def health(self) -> Health:
        live = self._send("GET", "/v2/health/live").json()["live"] is True
        ready = self._send("GET", "/v2/health/ready", ok=(200, 400)).json()["ready"] is True
        return Health(live=live, ready=ready, served_by="", models=[])

    def _input_name(self, model: str) -> str:
        if model not in self._inputs:
            metadata = self._send("GET", model_path(model, None)).json()
            self._inputs[model] = metadata["inputs"][0]["name"]
        return self._inputs[model]

    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        x = features(instances)
        raw = x.astype("<f8").tobytes()
        tensor = {
            "name": self._input_name(model),
            "datatype": "FP64",
            "shape": list(x.shape),
            "parameters": {"binary_data_size": len(raw)},
        }
        return self._infer(model, version, tensor, raw, caller)

    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse:
        raw = join_bytes([image])
        tensor = {
            "name": IMAGE_INPUT,
            "datatype": "BYTES",
            "shape": [1],
            "parameters": {"binary_data_size": len(raw)},
        }
        return self._infer(model, version, tensor, raw, None)

    def _infer(
        self,
        model: str,
        version: str | None,
        tensor: dict[str, Any],
        raw: bytes,
        caller: str | None,
    ) -> PredictResponse:
        parameters: dict[str, Any] = {"binary_data_output": True}
        if caller is not None:
            parameters["caller"] = caller
        body, headers = binary_request({"inputs": [tensor], "parameters": parameters}, raw)
        response = self._send(
            "POST", f"{model_path(model, version)}/infer", content=body, headers=headers
        )
        return self._answer(response)

    @staticmethod
    def _answer(response: httpx.Response) -> PredictResponse:
        content = response.content
        length = response.headers.get(HEADER_LENGTH)
        split = int(length) if length is not None else len(content)
        document = orjson.loads(content[:split])
        buffer = content[split:]
        tensors: dict[str, Any] = {}
        for output in document["outputs"]:
            size = (output.get("parameters") or {}).get("binary_data_size")
            if size is None:
                data = output["data"]
                tensors[output["name"]] = (
                    [d.encode() for d in data]
                    if output["datatype"] == "BYTES"
                    else np.asarray(data, dtype=np.float64).reshape(output["shape"])
                )
                continue
            raw, buffer = buffer[:size], buffer[size:]
            tensors[output["name"]] = (
                split_bytes(output["name"], raw)
                if output["datatype"] == "BYTES"
                else np.frombuffer(raw, dtype="<f8").reshape(output["shape"])
            )
        return predict_response(
            document["model_name"],
            document["model_version"],
            document.get("parameters") or {},
            tensors[LABEL],
            tensors.get(PROBABILITIES),
        )


class OipRestProbe(HttpJsonProbe):
    """Raw inference requests for the hardening tests (``clients.probe``), in JSON."""

    path = "/v2/models/iris/infer"

    def document(self, rows: Any) -> dict[str, Any]:
        shape = (
            [len(rows), len(rows[0])]
            if isinstance(rows, list) and rows and isinstance(rows[0], list)
            else [1, 4]
        )
        return {"inputs": [{"name": "features", "datatype": "FP64", "shape": shape, "data": rows}]}

    def read(self, response: httpx.Response) -> Verdict:
        verdict = Verdict(response.status_code, text=response.text)
        if response.status_code >= 400:
            verdict.errors.append(OIP_HTTP_STATUS.to_core(response.status_code))
        return verdict
