"""Thrift adapter: Apache Thrift's generated processor on a raw TCP socket, one thread per
connection.

Apache Thrift over thriftpy2 by measurement (benchmarks/thrift_flavour.py, docs/thrift.md).
Its own server classes cannot take the socket we bind (``--port 0``, SO_REUSEPORT) and have no
connection cap, idle timeout, TLS-in-thread or graceful drain, so the accept loop is ours:

- each connection speaks the binary protocol (the default) or the compact one: the first byte
  tells them apart (0x80 binary, 0x82 compact), over a buffered transport;
- TLS when ``tls_cert_file`` is set; the handshake runs in the connection's thread;
- strings and containers are capped at ``max_body_bytes`` by the protocol decoder; a request
  over it is answered TOO_LARGE and the connection closed (its remaining bytes are not read);
- at most ``MAX_CONNECTIONS`` at once, idle ones closed after ``IDLE_TIMEOUT_S``;
- SIGTERM/SIGINT: stop accepting, let calls in flight finish (up to ``GRACEFUL_SHUTDOWN_S``),
  close idle connections, exit 0.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import ssl
import threading
import time
from types import FrameType
from typing import Any

from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.protocol.TCompactProtocol import TCompactProtocolAccelerated
from thrift.protocol.TProtocol import TProtocolException
from thrift.Thrift import TMessageType
from thrift.transport import TSocket, TTransport

from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.thrift_convert import error_to_thrift
from protobench.v1.inference_thrift import InferenceService as ThriftService
from servers.listen import Listen, announce, bind_socket
from servers.thrift_handler import ConnectionHandler

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 1000
IDLE_TIMEOUT_S = 60.0
GRACEFUL_SHUTDOWN_S = 10.0
BINARY_FIRST_BYTE = 0x80  # strict binary: version 0x8001 in the first two bytes
COMPACT_FIRST_BYTE = 0x82  # compact: protocol id 0x82


class MessageTooLarge(Exception):
    """More bytes than ``max_body_bytes`` were read for one request."""


class _CountingSocket(TSocket.TSocket):  # type: ignore[misc]  # thrift is untyped
    """A connected socket that counts the bytes of each request against the limit, and whose
    first byte, already read to pick the protocol, is read again."""

    def __init__(self, sock: socket.socket, first: bytes, limit: int) -> None:
        super().__init__()
        self.handle = sock
        self._first = first
        self.limit = limit
        self.count = 0  # bytes of the current request; reset before each one

    def read(self, sz: int) -> bytes:
        if self._first:
            data, self._first = self._first, b""
        else:
            data = super().read(sz)
        self.count += len(data)
        if self.count > self.limit:
            raise MessageTooLarge
        return data


class _Connection:
    """One client: its protocol, its handler, its calls until it hangs up or we stop."""

    def __init__(self, server: ThriftServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.busy = False  # a request's header has been read and its answer not yet sent
        self.message = ("", 0)  # that request's method name and sequence id

    def _started(self, name: str, _type: int, seqid: int) -> None:
        self.busy = True
        self.message = (name, seqid)

    def run(self) -> None:
        try:
            self._serve()
        except (TTransport.TTransportException, OSError, ssl.SSLError):
            pass  # the client hung up, timed out or failed its TLS handshake
        except Exception:
            log.exception("unexpected error on a Thrift connection")
        finally:
            self.server.forget(self)
            self.sock.close()

    def _serve(self) -> None:
        if self.server.tls is not None:
            self.sock = self.server.tls.wrap_socket(self.sock, server_side=True)
        first = self.sock.recv(1)
        if not first:
            return
        if first[0] not in (BINARY_FIRST_BYTE, COMPACT_FIRST_BYTE):
            log.info("closed a Thrift connection that speaks neither binary nor compact")
            return
        limit = self.server.service.settings.max_body_bytes
        counting = _CountingSocket(self.sock, first, limit)
        transport = TTransport.TBufferedTransport(counting)
        protocol_class = (
            TBinaryProtocolAccelerated
            if first[0] == BINARY_FIRST_BYTE
            else TCompactProtocolAccelerated
        )
        protocol = protocol_class(
            transport, string_length_limit=limit, container_length_limit=limit
        )
        processor = ThriftService.Processor(ConnectionHandler(self.server.service))
        processor.on_message_begin(self._started)
        while not self.server.stopping.is_set():
            counting.count = 0
            self._process(processor, protocol)
            self.busy = False

    def _process(self, processor: Any, protocol: Any) -> None:
        """One call. A request that cannot be decoded (over a size limit, invalid UTF-8, a
        negative length) is answered with the caller's error and the connection closed: where
        the next message would start is unknown."""
        try:
            processor.process(protocol, protocol)
        except (TTransport.TTransportException, OSError):
            raise
        except Exception as exc:
            if not self.busy:  # no message header could be read: not a Thrift request at all
                log.info("closed a Thrift connection whose bytes are not a message: %s", exc)
                raise TTransport.TTransportException(
                    TTransport.TTransportException.END_OF_FILE
                ) from exc
            self._refuse(protocol, _decode_error(exc, self.server.service.settings.max_body_bytes))
            raise TTransport.TTransportException(
                TTransport.TTransportException.END_OF_FILE
            ) from exc

    def _refuse(self, protocol: Any, error: CoreError) -> None:
        """Answer the request being read with ``error``; its remaining bytes stay unread."""
        name, seqid = self.message
        result_class = getattr(ThriftService, f"{name}_result", None)
        if result_class is None:
            return
        log.info("refused a Thrift %s call: %s", name, error.message)
        protocol.writeMessageBegin(name, TMessageType.REPLY, seqid)
        result_class(error=error_to_thrift(error)).write(protocol)
        protocol.writeMessageEnd()
        protocol.trans.flush()


def _decode_error(exc: Exception, limit: int) -> CoreError:
    too_large = isinstance(exc, MessageTooLarge | OverflowError) or (
        isinstance(exc, TProtocolException) and exc.type == TProtocolException.SIZE_LIMIT
    )
    if too_large:
        return CoreError(
            ErrorCode.TOO_LARGE,
            f"the request, or a string or list in it, is over the limit of {limit} bytes",
            {"limit": limit},
        )
    return CoreError(ErrorCode.INVALID_INPUT, f"the request could not be decoded: {str(exc)[:200]}")


class ThriftServer:
    def __init__(self, service: InferenceService, sock: socket.socket) -> None:
        self.service = service
        self.listener = sock
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._threads: list[threading.Thread] = []
        self.tls = _tls_context(service)

    def forget(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)

    def serve_forever(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self.stopping.is_set():
                    break
                raise
            sock.settimeout(IDLE_TIMEOUT_S)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if len(self._connections) >= MAX_CONNECTIONS:
                    log.warning("refused a Thrift connection: %d already open", MAX_CONNECTIONS)
                    sock.close()
                    continue
                connection = _Connection(self, sock)
                self._connections.add(connection)
            thread = threading.Thread(target=connection.run, name="thrift-conn", daemon=True)
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        self._drain()

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def _drain(self) -> None:
        """Close idle connections at once; busy ones close after their call is answered."""
        self.listener.close()
        with self._lock:
            idle = [c for c in self._connections if not c.busy]
        for connection in idle:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + GRACEFUL_SHUTDOWN_S
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def _tls_context(service: InferenceService) -> ssl.SSLContext | None:
    settings = service.settings
    if settings.tls_cert_file is None or settings.tls_key_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    return context


def serve(service: InferenceService, listen: Listen) -> None:
    """Bind, start loading the models, announce the port, serve until SIGINT/SIGTERM."""
    sock = bind_socket(listen)
    server = ThriftServer(service, sock)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        server.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service.load_in_background()
    announce(listen, "thrift", sock.getsockname()[1])
    server.serve_forever()
