"""SOAP 1.1 client: zeep, driven by the WSDL the server publishes at ``/soap?wsdl``.

Nothing about the service is written here but the operation names: zeep reads the WSDL on the
first call (so a client can be made before the server is up) and builds every envelope from
it. Faults come back as ``ClientError``: the core code from ``<detail><code>``, or, for a
Fault spyne raised itself (a malformed envelope, a value that is not a number), Client ->
INVALID_INPUT and Server -> INTERNAL.

Under load (``prepare``) zeep is too dear for the generator: it parses every answer against
the WSDL's types, about 4 ms of CPU per call, more than the server spends. A prepared call is
instead its envelope written once (document/literal, the operation wrapping its parameters in
the WSDL's order) and sent as bytes over the HTTP transports the other HTTP clients use
(geventhttpclient under Locust, ``transport="gevent"``); its answer is read with lxml only as
far as the load test checks it (a label in every prediction, a model's name) and a Fault is
mapped as above. The same calls through zeep and through this path get the same answers and
codes (tests/loadtests/test_lean_clients.py).
"""

from __future__ import annotations

import base64
import json
import math
import typing
from collections.abc import Callable, Iterator, Sequence
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
from zeep.transports import Transport as ZeepTransport

from clients.base import ClientError, InferenceClient, Prepared, check_answer
from clients.http_transport import (
    KEEPALIVE_EXPIRY_S,
    HttpAnswer,
    HttpRequest,
    HttpTransport,
    Transport,
    base_url,
    open_transport,
)
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
NAMESPACE = "urn:protobench:v1"  # the service's target namespace (servers/soap_types.py)
CONTENT_TYPE = "text/xml; charset=utf-8"
T = TypeVar("T", bound=BaseModel)


def fault_status(code: str) -> str:
    """``soap11env:Client.ValidationError`` -> ``soap:Client``: whose fault, prefix-free."""
    local = code.rpartition(":")[2].partition(".")[0]
    return f"soap:{local}"


def fault_error(fault: zeep.exceptions.Fault) -> ClientError:
    return _fault_error(str(fault.code or ""), str(fault.message), fault.detail)


def _fault_error(faultcode: str, message: str, detail: etree._Element | None) -> ClientError:
    """A Fault as a ClientError: whose fault (``soap:Client``/``soap:Server``), the core code
    from ``<detail><code>`` (else Client -> INVALID_INPUT, Server -> INTERNAL), its details."""
    status = fault_status(faultcode)
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
        code, message, details if isinstance(details, dict) else None, protocol_status=status
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
        transport: Transport = "httpx",
    ) -> None:
        """``transport`` carries the prepared calls (``gevent`` under Locust); the other
        operations go through zeep on a requests session."""
        super().__init__(target, timeout=timeout)
        self._lean_options = (transport, api_key, tls_ca)
        self._lean: HttpTransport | None = None
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
            transport = ZeepTransport(  # type: ignore[no-untyped-call]
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
        if self._lean is not None:
            self._lean.close()

    def prepare(self, operation: str, **arguments: Any) -> Prepared:
        """The load test's calls as envelopes written once; other operations through zeep."""
        lean = _LEAN_CALLS.get(operation)
        if lean is None:
            return super().prepare(operation, **arguments)
        name, parameters = lean
        if self._lean is None:
            transport, api_key, tls_ca = self._lean_options
            headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
            self._lean = open_transport(
                transport, self.target, timeout=self.timeout, headers=headers, tls_ca=tls_ca
            )
        http = self._lean
        request = HttpRequest("POST", PATH, envelope(name, parameters(**arguments)), CONTENT_TYPE,
                              (("soapaction", f'"{name}"'),))  # fmt: skip
        prepared = http.prepare(request)
        return lambda: check_answer(operation, lean_answer(operation, http.send(prepared)))

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
        self.http = httpx.Client(
            base_url=f"http://{target}",
            timeout=timeout,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S),
        )

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
        return Verdict(fault.protocol_status or "", [fault.code], response.text)

    def close(self) -> None:
        self.http.close()


def _parse(content: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError:
        return None


def _fault_of(content: bytes) -> ClientError | None:
    """A Fault document as a ClientError, or None if the document is no Fault."""
    root = _parse(content)
    fault = None if root is None else root.find(f"{{{ENVELOPE}}}Body/{{{ENVELOPE}}}Fault")
    if fault is None:
        return None
    return _fault_error(
        fault.findtext("faultcode") or "", fault.findtext("faultstring") or "", fault.find("detail")
    )


# -- the load test's lean path ---------------------------------------------------------------


def _predict_parameters(
    model: str,
    instances: Sequence[Sequence[float]],
    version: str | None = None,
    caller: str | None = None,
) -> dict[str, Any]:
    rows = [{"features": list(row)} for row in instances]
    return {"model": model, "instances": rows, "version": version, "caller": caller}


def _image_parameters(model: str, image: bytes, version: str | None = None) -> dict[str, Any]:
    return {"model": model, "image": image, "version": version}


# operation -> (the SOAP operation, its parameters in the WSDL's order)
_LEAN_CALLS: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {
    "predict": ("Predict", _predict_parameters),
    "predict_image": ("PredictImage", _image_parameters),
    "get_model": ("GetModel", lambda name: {"name": name}),
    "list_models": ("ListModels", dict),
}


def _text(value: Any) -> str:
    """A value as XML Schema writes it: doubles with NaN/INF, bytes as base64Binary."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("INF" if value > 0 else "-INF")
    return escape(str(value))


def _element(name: str, value: Any) -> str:
    """``<p:name>value</p:name>``: a list repeats the element, a dict nests its fields in
    order, None leaves it out."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "".join(_element(name, item) for item in value)
    inner = (
        "".join(_element(k, v) for k, v in value.items())
        if isinstance(value, dict)
        else _text(value)
    )
    return f"<p:{name}>{inner}</p:{name}>"


def envelope(operation: str, parameters: dict[str, Any]) -> bytes:
    """A document/literal SOAP 1.1 request: the operation's element wrapping its parameters."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{ENVELOPE}" '
        f'xmlns:p="{NAMESPACE}"><soap:Body>{_element(operation, parameters)}'
        "</soap:Body></soap:Envelope>"
    ).encode()


def lean_answer(operation: str, answer: HttpAnswer) -> Any:
    """As much of the answer as ``check_answer`` reads, as plain data; a Fault (or an HTTP
    error without one) raised as a ClientError."""
    if answer.status != 200:
        fault = _fault_of(answer.content)
        if fault is not None:
            raise fault
        raise ClientError(from_http_status(answer.status), f"HTTP {answer.status} from {PATH}",
                          protocol_status=answer.status)  # fmt: skip
    root = _parse(answer.content)
    body = None if root is None else root.find(f"{{{ENVELOPE}}}Body")
    if body is None or len(body) == 0:
        raise ClientError(ErrorCode.INTERNAL, f"{operation}: not a SOAP answer")
    payload, ns = body[0], f"{{{NAMESPACE}}}"

    def named(element: etree._Element) -> dict[str, str]:
        name = element.findtext(f"{ns}name")
        return {"name": name} if name is not None else {}

    if operation == "list_models":
        return [named(model) for model in payload.iterfind(f"{ns}models")]
    if operation == "get_model":
        return named(payload)
    return {"predictions": [{"label": p.findtext(f"{ns}label")}
                            for p in payload.iterfind(f"{ns}predictions")]}  # fmt: skip
