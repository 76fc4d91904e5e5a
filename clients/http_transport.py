"""The HTTP/1.1 connection under the REST, GraphQL and JSON-RPC clients, in two interchangeable
transports.

- ``httpx`` (the default, for scripts and tests): one pooled httpx connection.
- ``gevent`` (for Locust): one keep-alive socket from geventhttpclient's pool (the transport
  of Locust's own FastHttpUser), answers read by ``clients.http1_answer``. A prepared request is
  a byte string built once, so a load test sends the same bytes again without re-encoding
  anything: httpx costs about 900 µs of CPU per POST, this about 60 µs (docs/loadtests.md).

Every call has a deadline (``timeout`` covers connect, each read and each write). A failed
*connection* is retried once, whatever the operation: the request never reached the server,
so it cannot have run. A request that was sent is never retried here — POST is not idempotent
by HTTP's rules, and GraphQL and JSON-RPC carry every operation over POST. Both transports turn
a timeout into ``DEADLINE_EXCEEDED`` and an unreachable server into ``NOT_READY``.
"""

from __future__ import annotations

import ssl
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple
from urllib.parse import urlsplit

import httpx

from clients.base import ClientError, InferenceClient, Prepared, check_answer, http_base_url
from clients.http1_answer import HttpParseError, read_answer
from protobench.core.errors import ErrorCode
from protobench.core.types import ModelMetadata, PredictResponse

if TYPE_CHECKING:
    from geventhttpclient.connectionpool import ConnectionPool

CONNECT_RETRIES = 1
IDLE_CHECK_S = 1.0  # a keep-alive socket idle this long is checked before it is reused
# httpx drops an idle pooled connection after this long. Its default (5 s) equals uvicorn's
# keep-alive timeout, so a request sent on a connection idle for ~5 s could meet the server's
# close on the way ("Server disconnected without sending a response", seen in a fuzz run on a
# busy machine); well below it, the client always opens a fresh connection first.
KEEPALIVE_EXPIRY_S = 2.0
Transport = Literal["httpx", "gevent"]
TRANSPORTS: tuple[Transport, ...] = ("httpx", "gevent")


def _no_header(name: str) -> str | None:
    return None


class HttpAnswer(NamedTuple):
    status: int
    reason: str
    content: bytes
    header: Callable[[str], str | None] = _no_header  # a response header by name, if any


class HttpRequest(NamedTuple):
    method: str
    path: str  # with its query string
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # more, for this request only


def base_url(target: str, *, tls: bool) -> str:
    """``host:port`` -> ``http(s)://host:port``; a full URL is kept."""
    if tls and "://" not in target:
        target = f"https://{target}"
    return http_base_url(target)


class HttpTransport(ABC):
    """One connection to one server. ``prepare`` encodes a request once; ``send`` sends a
    prepared request as often as asked."""

    def __init__(self, target: str, *, timeout: float, headers: dict[str, str],
                 tls_ca: str | Path | None) -> None:  # fmt: skip
        self.target = target
        self.timeout = timeout

    @abstractmethod
    def prepare(self, request: HttpRequest) -> Any: ...

    @abstractmethod
    def send(self, prepared: Any) -> HttpAnswer: ...

    def request(self, request: HttpRequest) -> HttpAnswer:
        return self.send(self.prepare(request))

    @abstractmethod
    def close(self) -> None: ...

    def _timed_out(self) -> ClientError:
        return ClientError(ErrorCode.DEADLINE_EXCEEDED, f"no answer within {self.timeout}s")

    def _unreachable(self, exc: BaseException) -> ClientError:
        return ClientError(ErrorCode.NOT_READY, f"cannot reach {self.target}: {exc}")


class HttpxTransport(HttpTransport):
    """One pooled httpx connection; ``tls_ca`` is the PEM file that certifies the server (its
    certificate, or the CA that signed it) and switches a bare ``host:port`` to HTTPS."""

    def __init__(self, target: str, *, timeout: float, headers: dict[str, str],
                 tls_ca: str | Path | None) -> None:  # fmt: skip
        super().__init__(target, timeout=timeout, headers=headers, tls_ca=tls_ca)
        verify: ssl.SSLContext | bool = True
        if tls_ca is not None:
            verify = ssl.create_default_context(cafile=str(tls_ca))
        self._http = httpx.Client(
            base_url=base_url(target, tls=tls_ca is not None),
            timeout=timeout,
            headers=headers,
            transport=httpx.HTTPTransport(
                verify=verify,
                retries=CONNECT_RETRIES,
                limits=httpx.Limits(
                    max_connections=1,
                    max_keepalive_connections=1,
                    keepalive_expiry=KEEPALIVE_EXPIRY_S,
                ),
            ),
        )

    def prepare(self, request: HttpRequest) -> httpx.Request:
        headers = dict(request.headers)
        if request.content_type:
            headers["content-type"] = request.content_type
        return self._http.build_request(
            request.method, request.path, content=request.body or None, headers=headers
        )

    def send(self, prepared: httpx.Request) -> HttpAnswer:
        try:
            response = self._http.send(prepared)
        except httpx.TimeoutException as exc:
            raise self._timed_out() from exc
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        return HttpAnswer(
            response.status_code, response.reason_phrase, response.content, response.headers.get
        )

    def close(self) -> None:
        self._http.close()


class GeventTransport(HttpTransport):
    """One keep-alive socket from geventhttpclient's pool; a prepared request is its bytes."""

    def __init__(self, target: str, *, timeout: float, headers: dict[str, str],
                 tls_ca: str | Path | None) -> None:  # fmt: skip
        super().__init__(target, timeout=timeout, headers=headers, tls_ca=tls_ca)
        from geventhttpclient.connectionpool import ConnectionPool, SSLConnectionPool

        url = urlsplit(base_url(target, tls=tls_ca is not None))
        host = url.hostname or "127.0.0.1"
        port = url.port or (443 if url.scheme == "https" else 80)
        self._prefix = url.path.rstrip("/")
        authority = f"[{host}]" if ":" in host else host
        head = {"host": f"{authority}:{port}", **headers}
        self._head = "".join(f"{name}: {value}\r\n" for name, value in head.items())
        self._pool: ConnectionPool
        if url.scheme == "https":
            context = ssl.create_default_context(cafile=str(tls_ca) if tls_ca else None)
            self._pool = SSLConnectionPool(
                host, port, host, port, size=1, ssl_context_factory=lambda: context,
                connection_timeout=timeout, network_timeout=timeout,
            )  # fmt: skip
        else:
            self._pool = ConnectionPool(
                host, port, host, port, size=1, connection_timeout=timeout,
                network_timeout=timeout,
            )  # fmt: skip
        self._socket: Any = None
        self._received = bytearray()  # bytes read past the last answer (none, normally)
        self._last_used = 0.0

    def prepare(self, request: HttpRequest) -> tuple[str, bytes]:
        lines = [f"{request.method} {self._prefix}{request.path} HTTP/1.1\r\n", self._head]
        if request.content_type:
            lines.append(f"content-type: {request.content_type}\r\n")
        lines += [f"{name}: {value}\r\n" for name, value in request.headers]
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            lines.append(f"content-length: {len(request.body)}\r\n")
        lines.append("\r\n")
        return request.method, "".join(lines).encode("latin-1") + request.body

    def _connected(self) -> Any:
        """The held socket; one idle for a while goes back through the pool, which checks that
        the server has not closed it meanwhile."""
        now = time.perf_counter()
        if self._socket is not None and now - self._last_used > IDLE_CHECK_S:
            self._pool.return_socket(self._socket)
            self._socket = None
        if self._socket is None:
            for attempt in range(CONNECT_RETRIES + 1):
                try:
                    self._socket = self._pool.get_socket()
                    break
                except TimeoutError as exc:
                    raise self._timed_out() from exc
                except OSError as exc:
                    if attempt == CONNECT_RETRIES:
                        raise self._unreachable(exc) from exc
        self._last_used = now
        return self._socket

    def send(self, prepared: tuple[str, bytes]) -> HttpAnswer:
        method, data = prepared
        sock = self._connected()
        try:
            sent = sock.send(data)  # all of it, normally: sendall's bookkeeping only when not
            if sent < len(data):
                sock.sendall(data[sent:])
            answer = read_answer(sock, self._received, method)
        except TimeoutError as exc:
            self._drop()
            raise self._timed_out() from exc
        except (OSError, HttpParseError) as exc:
            self._drop()
            raise self._unreachable(exc) from exc
        if not answer.keep_alive or self._received:  # closing, or more than one answer came
            self._drop()
        headers = answer.headers
        return HttpAnswer(
            answer.status, answer.reason, answer.content, lambda name: headers.get(name.lower())
        )

    def _drop(self) -> None:
        if self._socket is not None:
            self._pool.release_socket(self._socket)
            self._socket = None
        self._received.clear()

    def close(self) -> None:
        self._drop()
        self._pool.close()


def open_transport(
    transport: Transport, target: str, *, timeout: float, headers: dict[str, str],
    tls_ca: str | Path | None,
) -> HttpTransport:  # fmt: skip
    cls = GeventTransport if transport == "gevent" else HttpxTransport
    return cls(target, timeout=timeout, headers=headers, tls_ca=tls_ca)


class HttpInferenceClient(InferenceClient):
    """What the REST, GraphQL and JSON-RPC clients share: the connection and its options, and
    the operations a load test sends. Each protocol encodes those requests
    (``_predict_request``, ...) and reads every answer (``_answer``); a prepared call is the
    same request encoded once, its answer checked instead of validated."""

    headers: ClassVar[dict[str, str]] = {}  # sent with every request

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 10.0,
        api_key: str | None = None,
        tls_ca: str | Path | None = None,
        transport: Transport = "httpx",
    ) -> None:
        """``api_key`` goes out as ``Authorization: Bearer``; ``tls_ca``, the PEM file that
        certifies the server, turns TLS on; ``transport`` is ``httpx`` or, under gevent (Locust),
        ``gevent``."""
        super().__init__(target, timeout=timeout)
        headers = self._headers()
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._http = open_transport(
            transport, target, timeout=timeout, headers=headers, tls_ca=tls_ca
        )

    def _headers(self) -> dict[str, str]:
        """The headers every request carries (a client may add its own, such as Accept)."""
        return dict(self.headers)

    def close(self) -> None:
        self._http.close()

    @abstractmethod
    def _predict_request(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> HttpRequest: ...

    @abstractmethod
    def _predict_image_request(
        self, model: str, image: bytes, version: str | None = None
    ) -> HttpRequest: ...

    @abstractmethod
    def _get_model_request(self, name: str) -> HttpRequest: ...

    @abstractmethod
    def _list_models_request(self) -> HttpRequest: ...

    @abstractmethod
    def _answer(self, operation: str, answer: HttpAnswer) -> Any:
        """The answer's JSON payload (the body, GraphQL's field, JSON-RPC's result), or the
        error it carries raised as a ClientError."""

    def _exchange(self, operation: str, request: HttpRequest) -> Any:
        return self._answer(operation, self._http.request(request))

    def list_models(self) -> list[ModelMetadata]:
        models = self._exchange("list_models", self._list_models_request())
        return [ModelMetadata.model_validate(m) for m in models]

    def get_model(self, name: str) -> ModelMetadata:
        return ModelMetadata.model_validate(
            self._exchange("get_model", self._get_model_request(name))
        )

    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        request = self._predict_request(model, instances, version, caller)
        return PredictResponse.model_validate(self._exchange("predict", request))

    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse:
        request = self._predict_image_request(model, image, version)
        return PredictResponse.model_validate(self._exchange("predict_image", request))

    def prepare(self, operation: str, **arguments: Any) -> Prepared:
        encoders: dict[str, Callable[..., HttpRequest]] = {
            "predict": self._predict_request,
            "predict_image": self._predict_image_request,
            "get_model": self._get_model_request,
            "list_models": self._list_models_request,
        }
        encode = encoders.get(operation)
        if encode is None:
            return super().prepare(operation, **arguments)
        prepared = self._http.prepare(encode(**arguments))
        send, checked = self._http.send, self._checked
        return lambda: checked(operation, send(prepared))

    def _checked(self, operation: str, answer: HttpAnswer) -> Any:
        """A prepared call's answer, checked (``check_answer``) rather than validated; a client
        whose answers can be checked more cheaply overrides it."""
        return check_answer(operation, self._answer(operation, answer))
