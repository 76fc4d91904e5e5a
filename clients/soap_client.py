"""SOAP 1.1 client: zeep, driven by the WSDL the server publishes at ``/soap?wsdl``.

Nothing about the service is written here but the operation names: zeep reads the WSDL on the
first call (so a client can be made before the server is up) and builds every envelope from
it. Faults come back as ``ClientError``: the core code from ``<detail><code>``, or, for a
Fault spyne raised itself (a malformed envelope, a value that is not a number), Client ->
INVALID_INPUT and Server -> INTERNAL.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from xml.sax.saxutils import escape

import httpx
import requests
import zeep
import zeep.exceptions
import zeep.helpers
from lxml import etree
from pydantic import BaseModel
from zeep.transports import Transport

from clients.base import ClientError, InferenceClient
from clients.http_transport import base_url
from clients.probe import IRIS_ROW, Probe, Verdict
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

PATH = "/soap"
ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
T = TypeVar("T", bound=BaseModel)


def fault_status(code: str) -> str:
    """``soap11env:Client.ValidationError`` -> ``soap:Client``: whose fault, prefix-free."""
    local = code.rpartition(":")[2].partition(".")[0]
    return f"soap:{local}"


def fault_error(fault: zeep.exceptions.Fault) -> ClientError:
    status = fault_status(str(fault.code or ""))
    detail = fault.detail
    code_text = detail.findtext("code") if detail is not None else None
    details_text = detail.findtext("details") if detail is not None else None
    if code_text is not None and code_text in ErrorCode.__members__:
        code = ErrorCode(code_text)
    else:
        code = ErrorCode.INTERNAL if status == "soap:Server" else ErrorCode.INVALID_INPUT
    try:
        details = json.loads(details_text) if details_text else {}
    except ValueError:
        details = {}
    return ClientError(
        code,
        str(fault.message),
        details if isinstance(details, dict) else None,
        protocol_status=status,
    )


def _plain(value: Any) -> Any:
    """zeep's objects as plain dicts and lists."""
    return zeep.helpers.serialize_object(value, dict)  # type: ignore[no-untyped-call]


def _restore_empty(core_type: type[BaseModel], data: Any) -> Any:
    """XML cannot tell an empty string or list from a missing one, and zeep reads both as
    None: give them back from the core type's fields (recursively)."""
    if not isinstance(data, dict):
        return data
    restored = dict(data)
    for name, field in core_type.model_fields.items():
        annotation = field.annotation
        value = restored.get(name)
        origin = typing.get_origin(annotation)
        if value is None and annotation is str:
            restored[name] = ""
        elif value is None and origin is list:
            restored[name] = []
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            restored[name] = _restore_empty(annotation, value)
        elif origin is list and isinstance(value, list):
            (item,) = typing.get_args(annotation)
            if isinstance(item, type) and issubclass(item, BaseModel):
                restored[name] = [_restore_empty(item, v) for v in value]
    return restored


class SoapClient(InferenceClient):
    protocol = "soap"

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 10.0,
        api_key: str | None = None,
        tls_ca: str | Path | None = None,
    ) -> None:
        super().__init__(target, timeout=timeout)
        self._session = requests.Session()
        if api_key:
            self._session.headers["authorization"] = f"Bearer {api_key}"
        if tls_ca is not None:
            self._session.verify = str(tls_ca)
            # requests lets REQUESTS_CA_BUNDLE in the environment override a session's verify
            # (zeep passes none per request): ignore the environment, trust this file.
            self._session.trust_env = False
        self._endpoint = f"{base_url(target, tls=tls_ca is not None)}{PATH}"
        self._wsdl = f"{self._endpoint}?wsdl"
        self._zeep: zeep.Client | None = None
        self._proxy: Any = None

    def _service(self) -> Any:
        if self._proxy is None:
            transport = Transport(  # type: ignore[no-untyped-call]
                session=self._session, timeout=self.timeout, operation_timeout=self.timeout
            )
            self._zeep = self._guard(
                lambda: zeep.Client(self._wsdl, transport=transport)  # type: ignore[no-untyped-call]
            )
            # Call the address this client was given, not the one written in the WSDL: a
            # server names the address it was first reached at, which behind a balancer or a
            # relay is not the one in front of it.
            binding = next(iter(self._zeep.wsdl.bindings))
            self._proxy = self._zeep.create_service(binding, self._endpoint)
        return self._proxy

    def _guard(self, call: Any) -> Any:
        """Run ``call``, with every failure as a ClientError."""
        try:
            return call()
        except zeep.exceptions.Fault as fault:
            raise fault_error(fault) from None
        except zeep.exceptions.TransportError as exc:
            raise ClientError(
                from_http_status(exc.status_code),
                f"HTTP {exc.status_code} from {PATH}: {exc.message}",
                protocol_status=exc.status_code,
            ) from None
        except requests.Timeout as exc:
            raise ClientError(
                ErrorCode.DEADLINE_EXCEEDED, f"no answer within {self.timeout}s"
            ) from exc
        except requests.RequestException as exc:
            raise ClientError(ErrorCode.NOT_READY, f"cannot reach {self.target}: {exc}") from exc
        except zeep.exceptions.Error as exc:
            raise ClientError(ErrorCode.INTERNAL, f"unexpected SOAP answer: {exc}") from exc

    def _call(self, operation: str, **params: Any) -> Any:
        service = self._service()
        return _plain(self._guard(lambda: getattr(service, operation)(**params)))

    def _typed(self, core_type: type[T], operation: str, **params: Any) -> T:
        return core_type.model_validate(_restore_empty(core_type, self._call(operation, **params)))

    def close(self) -> None:
        self._session.close()

    def list_models(self) -> list[ModelMetadata]:
        models = self._call("ListModels") or []
        return [ModelMetadata.model_validate(_restore_empty(ModelMetadata, m)) for m in models]

    def get_model(self, name: str) -> ModelMetadata:
        return self._typed(ModelMetadata, "GetModel", name=name)

    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        rows = [{"features": list(row)} for row in instances]
        return self._typed(
            PredictResponse, "Predict", model=model, instances=rows, version=version, caller=caller
        )

    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse:
        return self._typed(
            PredictResponse, "PredictImage", model=model, image=image, version=version
        )

    def delete_version(self, model: str, version: str) -> None:
        self._call("DeleteVersion", model=model, version=version)

    def health(self) -> Health:
        return self._typed(Health, "Health")

    def get_strategy(self, model: str) -> StrategyStatus:
        return self._typed(StrategyStatus, "GetStrategy", model=model)

    def set_strategy(self, model: str, strategy: StrategyConfig) -> StrategyStatus:
        return self._typed(
            StrategyStatus, "SetStrategy", model=model, strategy=strategy.model_dump()
        )

    def promote(self, model: str) -> StrategyStatus:
        return self._typed(StrategyStatus, "Promote", model=model)

    def rollback(self, model: str) -> StrategyStatus:
        return self._typed(StrategyStatus, "Rollback", model=model)

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        return self._typed(FeedbackResponse, "Feedback", prediction_id=prediction_id, reward=reward)

    def get_prediction(self, prediction_id: str) -> StoredPrediction:
        return self._typed(StoredPrediction, "GetPrediction", prediction_id=prediction_id)

    def list_predictions(
        self, job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]:
        page = self._call("ListPredictions", job=job, limit=limit, offset=offset) or []
        return [StoredPrediction.model_validate(_restore_empty(StoredPrediction, p)) for p in page]


class SoapProbe(Probe):
    """Raw envelopes for the hardening tests: any bytes POSTed to /soap, the Fault (or its
    absence) read back."""

    body_format = "xml"
    streams_bodies = True
    path: ClassVar[str] = PATH  # where a POST goes, for the balancer tests' raw requests
    content_type: ClassVar[str] = "text/xml; charset=utf-8"

    def __init__(self, target: str, *, timeout: float = 30.0) -> None:
        super().__init__(target, timeout=timeout)
        self.http = httpx.Client(base_url=f"http://{target}", timeout=timeout)

    def predict_body(self, rows: Any) -> bytes:
        if isinstance(rows, list):
            instances = "".join(
                "<p:instances>"
                + "".join(f"<p:features>{escape(str(v))}</p:features>" for v in row)
                + "</p:instances>"
                if isinstance(row, list)
                else f"<p:instances>{escape(str(row))}</p:instances>"
                for row in rows
            )
        else:
            instances = f"<p:instances>{escape(str(rows))}</p:instances>"
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{ENVELOPE}" '
            f'xmlns:p="urn:protobench:v1"><soap:Body><p:Predict><p:model>iris</p:model>'
            f"{instances}</p:Predict></soap:Body></soap:Envelope>"
        ).encode()

    def padded(self, size: int) -> bytes:
        body = self.predict_body([IRIS_ROW])
        return body + b" " * (size - len(body))  # white space after the root is still XML

    def send(self, body: bytes | Iterator[bytes]) -> Verdict:
        headers = {"content-type": "text/xml; charset=utf-8", "soapaction": '"Predict"'}
        response = self.http.post(PATH, content=body, headers=headers)
        if response.status_code == 200:
            return Verdict(200, text=response.text)
        fault = _fault_of(response.content)
        if fault is None:  # not a Fault: an HTTP-level answer (404, 405, a bare 500)
            return Verdict(
                response.status_code, [from_http_status(response.status_code)], response.text
            )
        status, code = fault
        return Verdict(status, [code], response.text)

    def close(self) -> None:
        self.http.close()


def _fault_of(content: bytes) -> tuple[str, ErrorCode] | None:
    """A Fault's ``soap:Client``/``soap:Server`` and core code, or None if it is none."""
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return None
    fault = root.find(f"{{{ENVELOPE}}}Body/{{{ENVELOPE}}}Fault")
    if fault is None:
        return None
    status = fault_status(fault.findtext("faultcode") or "")
    code_text = fault.findtext("detail/code")
    if code_text is not None and code_text in ErrorCode.__members__:
        return status, ErrorCode(code_text)
    return status, ErrorCode.INTERNAL if status == "soap:Server" else ErrorCode.INVALID_INPUT
