"""SOAP 1.1 adapter: spyne's document/literal service at ``/soap``, its WSDL at ``/soap?wsdl``.

spyne (a maintained-enough SOAP library: last release 2022, runs on Python 3.11, tested here)
builds the WSDL and parses and writes the envelopes; it is a WSGI application, run on uvicorn
in a thread pool that carries the API-key context into the call (servers/wsgi_host.py).
Operations, parameters and answers carry the gRPC service's names (``Predict(model, instances,
version, caller)`` -> ``PredictResponse``).

Errors are SOAP Faults, HTTP 500 for every one as SOAP 1.1 says: ``faultcode`` Client for the
caller's mistakes, Server for ours (NOT_READY, INTERNAL, DEADLINE_EXCEEDED), and the core code
in ``<detail><code>``, its details as JSON in ``<detail><details>``. A body over
``max_body_bytes`` gets the same Fault with TOO_LARGE before spyne reads it.
"""

from __future__ import annotations

import json
import logging
import math
from types import SimpleNamespace
from typing import Any
from xml.sax.saxutils import escape

import spyne.const
from spyne import Application, ByteArray, Fault, Long, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.core.types import PredictAnswer
from servers.adapter_common import INTERNAL_MESSAGE
from servers.asgi_runner import ASGIApp, Receive, Refusal, Scope, Send, serve_asgi, with_body_limit
from servers.listen import Listen
from servers.soap_spec import SOAP_FAULT
from servers.soap_types import (
    NAMESPACE,
    DeleteVersionResponseXml,
    FeedbackResponseXml,
    HealthResponse,
    Instance,
    ListModelsResponse,
    ListPredictionsResponse,
    ModelMetadataXml,
    PredictResponseXml,
    StoredPredictionXml,
    StrategyConfigXml,
    StrategyStatusXml,
    XmlDouble,
)
from servers.wsgi_host import asgi_of

log = logging.getLogger(__name__)

PATH = "/soap"
ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
WSGI_THREADS = 64  # calls in flight; a waiting model (--model-delay-ms) holds a thread each


def fault_code(code: ErrorCode) -> str:
    """``Client`` or ``Server``: whose fault it is, in SOAP 1.1's words (the spec's row)."""
    return SOAP_FAULT.code(code).removeprefix("soap:")


def to_fault(error: CoreError) -> Fault:
    detail = {"code": error.code.value, "details": json.dumps(error.details)}
    return Fault(fault_code(error.code), error.message, detail=detail)


def _service(ctx: Any) -> InferenceService:
    service: InferenceService = ctx.app.protobench_service
    return service


def _call(ctx: Any, run: Any) -> Any:
    """Run one core call; its CoreError as a Fault, anything else logged and INTERNAL."""
    try:
        return run(_service(ctx))
    except CoreError as exc:
        raise to_fault(exc) from None
    except Exception:
        log.exception("unexpected error in a SOAP operation")
        raise to_fault(CoreError(ErrorCode.INTERNAL, INTERNAL_MESSAGE)) from None


def _required(value: Any, name: str) -> Any:
    if value is None:
        raise CoreError(ErrorCode.INVALID_INPUT, f"{name} is required", {"field": name})
    return value


def _by_attribute(answer: PredictAnswer) -> SimpleNamespace:
    """A predict's plain fields as an object spyne reads by attribute. spyne writes any object
    whose attributes carry the type's fields as it is; a dict or a pydantic dump it first copies
    into new ComplexModel instances, and building then dumping the pydantic model costs more:
    together about a tenth of spyne's work on a one-row predict (docs/soap.md)."""
    rows = zip(answer.labels, answer.probabilities, strict=True)
    return SimpleNamespace(
        model=answer.model,
        version=answer.version,
        served_by=answer.served_by,
        predictions=[SimpleNamespace(label=label, probabilities=row) for label, row in rows],
        prediction_id=answer.prediction_id,
        arm=answer.arm,
    )


def _rows(instances: Any) -> list[list[float]]:
    return [list(instance.features or []) for instance in _required(instances, "instances")]


def _image(value: Any) -> bytes:
    """spyne hands a base64Binary over as a list of byte chunks."""
    return b"".join(_required(value, "image"))


def _strategy(value: Any) -> dict[str, Any]:
    """The decoded fields; the core checks them the same way for every protocol."""
    return {k: v for k, v in vars(_required(value, "strategy")).items() if v is not None}


_OUT = "out_bare"  # answers are the response type itself, not a <XResponse> wrapper around it


class InferenceSoapService(ServiceBase):  # type: ignore[misc]  # spyne is untyped
    """One operation per core operation, named as the gRPC service names its RPCs. spyne reads
    an answer's fields by attribute, so the core's models are handed to it as they are."""

    @rpc(_returns=ListModelsResponse, _body_style=_OUT)
    def ListModels(ctx: Any) -> Any:
        return _call(ctx, lambda s: {"models": s.list_models()})

    @rpc(Unicode, _returns=ModelMetadataXml, _body_style=_OUT)
    def GetModel(ctx: Any, name: str | None) -> Any:
        return _call(ctx, lambda s: s.get_model(_required(name, "name")))

    @rpc(
        Unicode,
        Instance.customize(max_occurs="unbounded"),
        Unicode,
        Unicode,
        _returns=PredictResponseXml,
        _body_style=_OUT,
    )
    def Predict(ctx: Any, model: Any, instances: Any, version: Any, caller: Any) -> Any:
        return _call(
            ctx,
            lambda s: _by_attribute(
                s.predict(_required(model, "model"), _rows(instances), version, caller, plain=True)
            ),
        )

    @rpc(Unicode, ByteArray, Unicode, _returns=PredictResponseXml, _body_style=_OUT)
    def PredictImage(ctx: Any, model: Any, image: Any, version: Any) -> Any:
        return _call(
            ctx,
            lambda s: s.predict_image(_required(model, "model"), _image(image), version),
        )

    @rpc(Unicode, Unicode, _returns=DeleteVersionResponseXml, _body_style=_OUT)
    def DeleteVersion(ctx: Any, model: Any, version: Any) -> Any:
        return _call(
            ctx,
            lambda s: s.delete_version(_required(model, "model"), _required(version, "version")),
        )

    @rpc(_returns=HealthResponse, _body_style=_OUT)
    def Health(ctx: Any) -> Any:
        return _call(ctx, lambda s: s.health())

    @rpc(Unicode, _returns=StrategyStatusXml, _body_style=_OUT)
    def GetStrategy(ctx: Any, model: Any) -> Any:
        return _call(ctx, lambda s: s.get_strategy(_required(model, "model")))

    @rpc(Unicode, StrategyConfigXml, _returns=StrategyStatusXml, _body_style=_OUT)
    def SetStrategy(ctx: Any, model: Any, strategy: Any) -> Any:
        return _call(ctx, lambda s: s.set_strategy(_required(model, "model"), _strategy(strategy)))

    @rpc(Unicode, _returns=StrategyStatusXml, _body_style=_OUT)
    def Promote(ctx: Any, model: Any) -> Any:
        return _call(ctx, lambda s: s.promote(_required(model, "model")))

    @rpc(Unicode, _returns=StrategyStatusXml, _body_style=_OUT)
    def Rollback(ctx: Any, model: Any) -> Any:
        return _call(ctx, lambda s: s.rollback(_required(model, "model")))

    @rpc(Unicode, XmlDouble, _returns=FeedbackResponseXml, _body_style=_OUT)
    def Feedback(ctx: Any, prediction_id: Any, reward: Any) -> Any:
        return _call(
            ctx,
            lambda s: s.feedback(
                _required(prediction_id, "prediction_id"), _required(reward, "reward")
            ),
        )

    @rpc(Unicode, _returns=StoredPredictionXml, _body_style=_OUT)
    def GetPrediction(ctx: Any, prediction_id: Any) -> Any:
        return _call(ctx, lambda s: s.get_prediction(_required(prediction_id, "prediction_id")))

    @rpc(Unicode, Long, Long, _returns=ListPredictionsResponse, _body_style=_OUT)
    def ListPredictions(ctx: Any, job: Any, limit: Any, offset: Any) -> Any:
        return _call(
            ctx,
            lambda s: {
                "predictions": s.list_predictions(
                    _required(job, "job"),
                    100 if limit is None else limit,
                    0 if offset is None else offset,
                )
            },
        )


def _fault_document(error: CoreError) -> bytes:
    """A Fault envelope written without spyne, for a body refused before spyne reads it."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{ENVELOPE}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:{fault_code(error.code)}</faultcode>"
        f"<faultstring>{escape(error.message)}</faultstring>"
        f"<detail><code>{error.code.value}</code>"
        f"<details>{escape(json.dumps(error.details))}</details></detail>"
        f"</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


def too_large(max_bytes: int) -> Refusal:
    """A body over the limit: the TOO_LARGE Fault, HTTP 500 like every SOAP 1.1 fault."""

    def refuse(size: int) -> tuple[int, str, bytes]:
        error = CoreError(
            ErrorCode.TOO_LARGE,
            f"request body of {size} bytes or more; the limit is {max_bytes}",
            {"bytes": size, "limit": max_bytes},
        )
        return 500, "text/xml; charset=utf-8", _fault_document(error)

    return refuse


def soap_application(service: InferenceService) -> Application:
    application = Application(
        [InferenceSoapService],
        tns=NAMESPACE,
        name="InferenceService",
        in_protocol=Soap11(validator="soft"),
        out_protocol=Soap11(),
    )
    application.protobench_service = service
    # spyne logs every Fault it raises for a malformed request with a traceback; those are
    # the callers' mistakes, answered as Faults. Our own failures are logged by _call/_guarded.
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
    return application


# What spyne lets escape while reading a caller's bytes (an empty body, bytes that are not
# text in the declared charset): the caller's mistake, answered as a Client Fault.
UNREADABLE = (StopIteration, UnicodeError, LookupError)


def _guarded(app: Any) -> Any:
    """spyne's WSGI app, with anything it lets escape answered as a Fault instead of a bare
    "Internal Server Error" page: Client for bytes it could not read, Server (logged) else."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            return list(app(environ, start_response))
        except UNREADABLE as exc:
            log.info("refused a SOAP request spyne could not read: %r", exc)
            error = CoreError(ErrorCode.INVALID_INPUT, "the body is not a readable SOAP envelope")
        except Exception:
            log.exception("unexpected error in spyne answering a SOAP request")
            error = CoreError(ErrorCode.INTERNAL, INTERNAL_MESSAGE)
        headers = [("Content-Type", "text/xml; charset=utf-8")]
        start_response("500 Internal Server Error", headers)
        return [_fault_document(error)]

    return wsgi


def _no_forced_collections() -> None:
    """Stop spyne's full ``gc.collect()`` after a request whenever a second has passed since
    the last one (``spyne.const.MIN_GC_INTERVAL``; it returns the file handles of uploads left
    to the collector, and this service keeps bodies in memory). In a server holding numpy,
    lxml and the models, one such collection took 170-350 ms of CPU with the GIL held: about a
    fifth of a core and a stall of every call each second. Measured on the 2-core machine (load
    11-17), server CPU per predict under 32 concurrent callers: 5.5-9.9 ms with it, 2.3 ms
    without (docs/scaling.md). Python's own generational collector still runs as usual."""
    spyne.const.MIN_GC_INTERVAL = math.inf


def create_app(service: InferenceService) -> ASGIApp:
    """``/soap`` (POST envelopes, GET ?wsdl) on spyne; any other path is 404."""
    max_bytes = service.settings.max_body_bytes
    _no_forced_collections()
    # The body limit is with_body_limit's (a TOO_LARGE Fault); spyne's own (2 MiB) would say
    # INVALID_INPUT first.
    spyne_app = WsgiApplication(
        soap_application(service), max_content_length=max_bytes + 1, block_length=64 * 1024
    )
    wsgi = asgi_of(_guarded(spyne_app), WSGI_THREADS)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await wsgi(scope, receive, send)
        if scope["type"] != "http":
            return
        if scope["path"] != PATH:
            body = b"not found: SOAP is served at /soap (WSDL at /soap?wsdl)"
            headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await wsgi(scope, receive, send)

    return with_body_limit(app, max_bytes, too_large(max_bytes))


def serve(service: InferenceService, listen: Listen) -> None:
    serve_asgi(create_app(service), "soap", service, listen)
