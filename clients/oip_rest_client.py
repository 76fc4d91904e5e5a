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
from clients.http_transport import HttpAnswer, HttpInferenceClient, HttpRequest
from clients.oip_common import (
    IMAGE_INPUT,
    LABEL,
    NO_METADATA,
    PROBABILITIES,
    UNKNOWN_MODEL_INPUT,
    OipClient,
    features,
    prediction_document,
)
from clients.probe import HttpJsonProbe, Verdict
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.types import Health
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


def error_of(answer: HttpAnswer) -> ClientError:
    try:
        message = orjson.loads(answer.content).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        message = None
    return ClientError(
        OIP_HTTP_STATUS.to_core(answer.status),
        str(message or answer.reason),
        protocol_status=answer.status,
    )


class OipRestClient(OipClient, HttpInferenceClient):
    protocol = "oip-rest"

    def __init__(self, target: str, **options: Any) -> None:
        super().__init__(target, **options)
        self._inputs: dict[str, str] = {}

    def _send(self, request: HttpRequest, ok: tuple[int, ...] = (200,)) -> HttpAnswer:
        answer = self._http.request(request)
        if answer.status not in ok:
            raise error_of(answer)
        return answer

    def health(self) -> Health:
        live = orjson.loads(self._send(HttpRequest("GET", "/v2/health/live")).content)
        ready = orjson.loads(self._send(HttpRequest("GET", "/v2/health/ready"), (200, 400)).content)
        return Health(
            live=live["live"] is True, ready=ready["ready"] is True, served_by="", models=[]
        )

    def _input_name(self, model: str) -> str:
        if model not in self._inputs:
            try:
                answer = self._send(HttpRequest("GET", model_path(model, None)))
            except ClientError as error:
                if error.code is not ErrorCode.NOT_FOUND:
                    raise
                # no such model: any name will do, the server says NOT_FOUND when it is sent
                return UNKNOWN_MODEL_INPUT
            self._inputs[model] = orjson.loads(answer.content)["inputs"][0]["name"]
        return self._inputs[model]

    def _list_models_request(self) -> HttpRequest:
        self._not_offered("list_models", NO_METADATA)

    def _get_model_request(self, name: str) -> HttpRequest:
        self._not_offered("get_model", NO_METADATA)

    def _predict_request(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> HttpRequest:
        x = features(instances)
        raw = x.astype("<f8").tobytes()
        tensor = {"name": self._input_name(model), "datatype": "FP64", "shape": list(x.shape),
                  "parameters": {"binary_data_size": len(raw)}}  # fmt: skip
        return self._infer_request(model, version, tensor, raw, caller)

    def _predict_image_request(
        self, model: str, image: bytes, version: str | None = None
    ) -> HttpRequest:
        raw = join_bytes([image])
        tensor = {"name": IMAGE_INPUT, "datatype": "BYTES", "shape": [1],
                  "parameters": {"binary_data_size": len(raw)}}  # fmt: skip
        return self._infer_request(model, version, tensor, raw, None)

    @staticmethod
    def _infer_request(model: str, version: str | None, tensor: dict[str, Any], raw: bytes,
                       caller: str | None) -> HttpRequest:  # fmt: skip
        parameters: dict[str, Any] = {"binary_data_output": True}
        if caller is not None:
            parameters["caller"] = caller
        head = orjson.dumps({"inputs": [tensor], "parameters": parameters})
        return HttpRequest(
            "POST",
            f"{model_path(model, version)}/infer",
            head + raw,
            "application/octet-stream",
            ((HEADER_LENGTH, str(len(head))),),
        )

    def _checked(self, operation: str, answer: HttpAnswer) -> Any:
        """A prepared inference's answer: its label tensor checked (a label per row); the
        probabilities are not decoded."""
        if answer.status != 200:
            raise error_of(answer)
        content = answer.content
        header = answer.header(HEADER_LENGTH)
        length = int(header) if header is not None else len(content)
        try:
            document = orjson.loads(content[:length])
            labels = _labels(document, content, length) if isinstance(document, dict) else None
        except (orjson.JSONDecodeError, CoreError):
            labels = None
        if not labels or not all(labels):
            raise ClientError(
                ErrorCode.INTERNAL, f"{operation}: unexpected answer {content!r:.200}"
            )
        return document

    def _answer(self, operation: str, answer: HttpAnswer) -> Any:
        """An inference answer as protobench's prediction document (what ``predict`` reads)."""
        if answer.status != 200:
            raise error_of(answer)
        content = answer.content
        header = answer.header(HEADER_LENGTH)
        length = int(header) if header is not None else len(content)
        document = orjson.loads(content[:length])
        buffer = content[length:]
        tensors: dict[str, Any] = {}
        for output in document["outputs"]:
            size = (output.get("parameters") or {}).get("binary_data_size")
            if size is None:
                data = output["data"]
                tensors[output["name"]] = (
                    [d.encode() for d in data] if output["datatype"] == "BYTES"
                    else np.asarray(data, dtype=np.float64).reshape(output["shape"])
                )  # fmt: skip
                continue
            raw, buffer = buffer[:size], buffer[size:]
            tensors[output["name"]] = (
                split_bytes(output["name"], raw) if output["datatype"] == "BYTES"
                else np.frombuffer(raw, dtype="<f8").reshape(output["shape"])
            )  # fmt: skip
        return prediction_document(document["model_name"], document["model_version"],
                                   document.get("parameters") or {}, tensors[LABEL],
                                   tensors.get(PROBABILITIES))  # fmt: skip


def _labels(document: dict[str, Any], content: bytes, offset: int) -> list[Any] | None:
    """The label tensor's elements, from its JSON ``data`` or its slice of the binary part that
    starts at ``offset``; None when the answer has none."""
    for output in document.get("outputs") or ():
        size = (output.get("parameters") or {}).get("binary_data_size")
        if output.get("name") == LABEL:
            if size is None:
                data = output.get("data")
                return data if isinstance(data, list) else None
            return split_bytes(LABEL, content[offset : offset + size])
        offset += size or 0
    return None


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
