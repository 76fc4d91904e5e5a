"""Thrift client: Apache Thrift's generated client over one TCP (or TLS) connection.

Binary protocol over a buffered transport by default; ``compact=True`` speaks the compact
protocol (the server tells them apart by the first byte). With an API key the connection
presents it once, through ``Authenticate``, right after connecting. A connection that failed
is reopened on the next call; a call that was sent is never repeated here. A prepared call (load
tests) is its CALL message encoded once and written straight to the socket; the reply is read by
the generated client from the bytes received (no buffered transport between) and checked (a
label per prediction, a name per model) rather than converted to core types.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from thrift.protocol.TBinaryProtocol import TBinaryProtocol, TBinaryProtocolAccelerated
from thrift.protocol.TCompactProtocol import TCompactProtocol, TCompactProtocolAccelerated
from thrift.Thrift import TApplicationException, TMessageType, TType
from thrift.transport import TSocket, TSSLSocket, TTransport
from thrift.transport.TTransport import TTransportException

from clients.base import ClientError, InferenceClient, Prepared
from clients.probe import IRIS_ROW, Probe, Verdict
from clients.thrift_lean import NotAReply, ReplyReader, ReplyWait, read_reply
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
from protobench.thrift_convert import (
    core_from_thrift,
    core_to_thrift,
    error_from_thrift,
    predict_response_from_thrift,
)
from protobench.v1.inference_thrift import InferenceService as ThriftService
from protobench.v1.inference_thrift import ttypes

T = TypeVar("T", bound=BaseModel)
RECEIVE = 65_536


def split_target(target: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``thrift://host:port`` -> (host, port)."""
    address = target.split("://", 1)[-1].rstrip("/")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClientError(ErrorCode.INVALID_INPUT, f"a Thrift target is host:port, not {target!r}")
    return host.strip("[]"), int(port)


CALLER_APPLICATION_ERRORS = {
    TApplicationException.UNKNOWN_METHOD,
    TApplicationException.INVALID_MESSAGE_TYPE,
    TApplicationException.WRONG_METHOD_NAME,
    TApplicationException.PROTOCOL_ERROR,
}


def application_error(exc: TApplicationException) -> ErrorCode:
    """Thrift's own errors: an unknown method or a malformed call is the caller's input (as
    404 and UNIMPLEMENTED are elsewhere); the rest is the server's."""
    return ErrorCode.INVALID_INPUT if exc.type in CALLER_APPLICATION_ERRORS else ErrorCode.INTERNAL


class ThriftClient(InferenceClient):
    protocol = "thrift"

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 10.0,
        api_key: str | None = None,
        tls_ca: str | Path | None = None,
        compact: bool = False,
    ) -> None:
        super().__init__(target, timeout=timeout)
        self._address = split_target(target)
        self._api_key = api_key
        self._tls_ca = tls_ca
        self._compact = compact
        self._transport: TTransport.TTransportBase | None = None
        self._socket: TSocket.TSocket | None = None  # under the transport, for prepared calls
        self._client: Any = None
        self._reply_wait = ReplyWait(timeout)  # every prepared call's, on this connection

    def _connect(self) -> Any:
        host, port = self._address
        if self._tls_ca is not None:
            context = ssl.create_default_context(cafile=str(self._tls_ca))
            sock: TSocket.TSocket = TSSLSocket.TSSLSocket(
                host, port, ssl_context=context, server_hostname=host
            )
        else:
            sock = TSocket.TSocket(host, port)
        sock.setTimeout(self.timeout * 1000)
        transport = TTransport.TBufferedTransport(sock)
        protocol_class = (
            TCompactProtocolAccelerated if self._compact else TBinaryProtocolAccelerated
        )
        client = ThriftService.Client(protocol_class(transport))
        try:
            transport.open()
        except TTransport.TTransportException as exc:
            raise ClientError(ErrorCode.NOT_READY, f"cannot reach {self.target}: {exc}") from exc
        self._transport, self._socket, self._client = transport, sock, client
        if self._api_key:
            self._invoke("Authenticate", ttypes.AuthenticateRequest(api_key=self._api_key))
        return client

    def _invoke(self, method: str, request: Any) -> Any:
        def exchange(client: Any) -> Any:
            getattr(client, f"send_{method}")(request)
            return read_reply(getattr(client, f"recv_{method}"))

        return self._guarded(exchange)

    def _guarded(self, exchange: Callable[[Any], Any]) -> Any:
        """``exchange(client)`` on the open connection, its failures as ClientError."""
        client = self._client or self._connect()
        try:
            return exchange(client)
        except ttypes.InferenceError as exc:
            code, message, details = error_from_thrift(exc)
            raise ClientError(code, message, details, protocol_status=exc.code) from None
        except TApplicationException as exc:
            raise ClientError(
                application_error(exc),
                f"Thrift application error: {exc.message}",
                protocol_status=exc.type,
            ) from None
        except NotAReply as exc:
            self.close()
            raise ClientError(
                ErrorCode.INTERNAL, f"the answer of {self.target} is not a Thrift reply: {exc}"
            ) from exc
        except TTransport.TTransportException as exc:
            self.close()
            if exc.type == TTransport.TTransportException.TIMED_OUT:
                raise ClientError(
                    ErrorCode.DEADLINE_EXCEEDED, f"no answer within {self.timeout}s"
                ) from exc
            raise ClientError(
                ErrorCode.NOT_READY, f"connection to {self.target} lost: {exc}"
            ) from exc
        except (OSError, EOFError) as exc:
            self.close()
            raise ClientError(
                ErrorCode.NOT_READY, f"connection to {self.target} lost: {exc}"
            ) from exc

    def _call(self, method: str, request: Any, core_type: type[T]) -> T:
        return core_from_thrift(core_type, self._invoke(method, request))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._transport, self._socket, self._client = None, None, None

    def list_models(self) -> list[ModelMetadata]:
        answer = self._invoke("ListModels", ttypes.ListModelsRequest())
        return [core_from_thrift(ModelMetadata, m) for m in answer.models or []]

    def get_model(self, name: str) -> ModelMetadata:
        return self._call("GetModel", ttypes.GetModelRequest(name=name), ModelMetadata)

    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        request = _predict_request(model, instances, version, caller)
        return predict_response_from_thrift(self._invoke("Predict", request))

    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse:
        request = ttypes.PredictImageRequest(model=model, image=image, version=version)
        return predict_response_from_thrift(self._invoke("PredictImage", request))

    def prepare(self, operation: str, **arguments: Any) -> Prepared:
        lean = LEAN_CALLS.get(operation)
        if lean is None:
            return super().prepare(operation, **arguments)
        method, encode, check = lean
        buffer = TTransport.TMemoryBuffer()
        protocol_class = TCompactProtocol if self._compact else TBinaryProtocol
        protocol = protocol_class(buffer)
        protocol.writeMessageBegin(method, TMessageType.CALL, 0)  # the generated client's seqid
        getattr(ThriftService, f"{method}_args")(request=encode(**arguments)).write(protocol)
        protocol.writeMessageEnd()
        data = buffer.getvalue()
        reply = ReplyReader(method, self._compact)

        def over(handle: socket.socket, readable: Callable[[], None]) -> Any:
            """The CALL's bytes straight on the socket; the reply read from the bytes
            received, more of them fetched until it decodes whole."""
            try:
                sent = handle.send(data)
                if sent < len(data):
                    handle.sendall(data[sent:])
                readable()
                received = b""
                while chunk := handle.recv(RECEIVE):
                    received += chunk
                    try:
                        return reply.read(received)
                    except EOFError:  # not all of the reply is here yet
                        continue
            except TimeoutError as exc:
                raise TTransportException(TTransportException.TIMED_OUT, "read timeout") from exc
            raise TTransportException(TTransportException.END_OF_FILE, "the server closed")

        def exchange(client: Any) -> Any:
            assert self._socket is not None
            return self._reply_wait.run(self._socket.handle, over)

        def send() -> object:
            answer = self._guarded(exchange)
            if not check(answer):
                raise ClientError(ErrorCode.INTERNAL, f"{operation}: unexpected answer {answer}")
            return answer

        return send

    def delete_version(self, model: str, version: str) -> None:
        self._invoke("DeleteVersion", ttypes.DeleteVersionRequest(model=model, version=version))

    def health(self) -> Health:
        return self._call("Health", ttypes.HealthRequest(), Health)

    def _status(self, method: str, request: Any) -> StrategyStatus:
        return self._call(method, request, StrategyStatus)

    def get_strategy(self, model: str) -> StrategyStatus:
        return self._status("GetStrategy", ttypes.GetStrategyRequest(model=model))

    def set_strategy(self, model: str, strategy: StrategyConfig) -> StrategyStatus:
        config = core_to_thrift(ttypes.StrategyConfig, strategy)
        return self._status("SetStrategy", ttypes.SetStrategyRequest(model=model, strategy=config))

    def promote(self, model: str) -> StrategyStatus:
        return self._status("Promote", ttypes.PromoteRequest(model=model))

    def rollback(self, model: str) -> StrategyStatus:
        return self._status("Rollback", ttypes.RollbackRequest(model=model))

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        request = ttypes.FeedbackRequest(prediction_id=prediction_id, reward=reward)
        return self._call("Feedback", request, FeedbackResponse)

    def get_prediction(self, prediction_id: str) -> StoredPrediction:
        request = ttypes.GetPredictionRequest(prediction_id=prediction_id)
        return self._call("GetPrediction", request, StoredPrediction)

    def list_predictions(
        self, job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]:
        request = ttypes.ListPredictionsRequest(job=job, limit=limit, offset=offset)
        answer = self._invoke("ListPredictions", request)
        return [core_from_thrift(StoredPrediction, p) for p in answer.predictions or []]


def _predict_request(model: str, instances: Sequence[Sequence[float]], version: str | None = None,
                     caller: str | None = None) -> Any:  # fmt: skip
    rows = [ttypes.Instance(features=list(row)) for row in instances]
    return ttypes.PredictRequest(model=model, instances=rows, version=version, caller=caller)


def _labelled(reply: Any) -> bool:
    return bool(reply.predictions) and all(p.label for p in reply.predictions)


# What a load test sends: the method, its request from the operation's arguments, the check.
LEAN_CALLS: dict[str, tuple[str, Callable[..., Any], Callable[[Any], bool]]] = {
    "predict": ("Predict", _predict_request, _labelled),
    "predict_image": ("PredictImage", ttypes.PredictImageRequest, _labelled),
    "get_model": ("GetModel", ttypes.GetModelRequest, lambda reply: bool(reply.name)),
    "list_models": ("ListModels", ttypes.ListModelsRequest,
                    lambda reply: all(m.name for m in reply.models or [])),
}  # fmt: skip


class ThriftProbe(Probe):
    """Raw Thrift messages for the hardening tests: bytes out on a fresh connection, the
    Predict reply (or the server hanging up) read back."""

    body_format = "thrift"

    def predict_body(self, rows: Any) -> bytes:
        instances = [ttypes.Instance(features=list(row)) for row in rows]
        return self._message(ttypes.PredictRequest(model="iris", instances=instances))

    @staticmethod
    def _message(request: Any) -> bytes:
        buffer = TTransport.TMemoryBuffer()
        protocol = TBinaryProtocol(buffer)
        protocol.writeMessageBegin("Predict", TMessageType.CALL, 1)
        ThriftService.Predict_args(request=request).write(protocol)
        protocol.writeMessageEnd()
        return bytes(buffer.getvalue())

    def padded(self, size: int) -> bytes:
        """Padded by an unknown field (id 1000) of the request struct, which Thrift decoders
        skip."""
        body = self.predict_body([IRIS_ROW])
        # the args struct ends with two STOP bytes (request struct, then args struct); the
        # unknown field goes before the first: type (1) + id (2) + length (4) + filler
        filler = size - len(body) - 7
        if filler < 0:
            raise ValueError(f"cannot pad to {size} bytes")
        field = bytes([TType.STRING]) + struct.pack("!hi", 1000, filler) + b"x" * filler
        return body[:-2] + field + body[-2:]

    def send(self, body: bytes | Iterator[bytes]) -> Verdict:
        data = body if isinstance(body, bytes) else b"".join(body)
        answer = b""
        with socket.create_connection(split_target(self.target), timeout=self.timeout) as sock:
            # The server may refuse and hang up before it has read everything.
            with contextlib.suppress(OSError):
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)  # all sent: a truncated request ends here
            with contextlib.suppress(OSError):
                while chunk := sock.recv(65536):
                    answer += chunk
        return _verdict(answer)

    def close(self) -> None:
        pass


def _verdict(answer: bytes) -> Verdict:
    """The reply's error code, or a success; a hang-up without a reply is no answer at all."""
    if not answer:
        return Verdict("closed", text="the server closed the connection without answering")
    protocol = TBinaryProtocol(TTransport.TMemoryBuffer(answer))
    _, message_type, _ = protocol.readMessageBegin()
    if message_type == TMessageType.EXCEPTION:
        failure = TApplicationException()
        failure.read(protocol)
        return Verdict("TApplicationException", [application_error(failure)], str(failure.message))
    result = ThriftService.Predict_result()
    result.read(protocol)
    if result.error is not None:
        code, message, _ = error_from_thrift(result.error)
        return Verdict(code.value, [code], message)
    return Verdict("OK")


__all__ = ["ThriftClient", "ThriftProbe", "split_target"]
