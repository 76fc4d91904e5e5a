"""What every gRPC call passes through before the servicer: request decoding that answers a
malformed or missing message with INVALID_ARGUMENT, and the API key.

grpcio answers a request its deserializer cannot decode with INTERNAL ("Exception
deserializing request!"), which would blame the server for the caller's bytes. Here the
deserializer is lenient (a malformed message becomes ``MALFORMED``) and the wrapped behaviour
refuses it with INVALID_ARGUMENT before the servicer sees it.

A unary method whose call ends before a whole message arrived (an empty body, a length
prefix promising more bytes than follow) got UNIMPLEMENTED from grpcio with a Python repr in
its message (``"b''" requires exactly one request message.``). The guard registers every
unary-request method as a request-streaming one (the bytes on the wire are the same) and
takes the first message itself, so that case is INVALID_ARGUMENT in our words too.

The caller's standing (``protobench.core.auth``) is a context variable of the thread that runs
the behaviour; grpcio runs interceptors on its polling thread and behaviours on a worker, so
the behaviour is wrapped rather than checked in ``intercept_service``. With no key configured
the core lets every caller through, so the standing is not set at all (it cost a context
manager per call).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeAlias

import grpc
from pydantic import SecretStr

from protobench.core.auth import bearer_matches, caller
from protobench.core.errors import ErrorCode
from servers.grpc_spec import GRPC_STATUS

METADATA_KEY = "authorization"
MALFORMED = object()  # what the lenient deserializer returns for bytes it cannot decode
MISSING = object()

Behaviour = Callable[[Any, grpc.ServicerContext], Any]
Deserializer = Callable[[bytes], Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"  # subscriptable in the stubs only


def _lenient(deserializer: Deserializer | None) -> Deserializer | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:  # DecodeError, or anything else the bytes provoke
            return MALFORMED

    return decode


def _refuse_malformed(context: grpc.ServicerContext) -> None:
    context.abort(
        grpc.StatusCode[GRPC_STATUS.code(ErrorCode.INVALID_INPUT)],
        "the request is not a valid protobuf message of the method's request type",
    )


def _checked(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
    for request in requests:
        if request is MALFORMED:
            _refuse_malformed(context)
        yield request


def _first(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
    """The one request of a unary method, from the stream grpcio hands over."""
    request = next(requests, MISSING)
    if request is MISSING:
        context.abort(
            grpc.StatusCode[GRPC_STATUS.code(ErrorCode.INVALID_INPUT)],
            "the call ended before its request message arrived (empty or cut short)",
        )
    if request is MALFORMED:
        _refuse_malformed(context)
    return request


def _unary(behaviour: Behaviour, authenticated: bool | None, streamed_in: bool) -> Behaviour:
    """``authenticated`` None: no key is configured, so the caller's standing is not set."""

    def call(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
        request = _checked(requests, context) if streamed_in else _first(requests, context)
        if authenticated is None:
            return behaviour(request, context)
        with caller(authenticated):
            return behaviour(request, context)

    return call


def _streaming(behaviour: Behaviour, authenticated: bool | None, streamed_in: bool) -> Behaviour:
    def call(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        request = _checked(requests, context) if streamed_in else _first(requests, context)
        if authenticated is None:
            yield from behaviour(request, context)
            return
        with caller(authenticated):
            yield from behaviour(request, context)

    return call


def guarded(handler: Handler, authenticated: bool | None) -> Handler:
    """``handler`` with a lenient deserializer, its requests taken as a stream (see the
    module's docstring) and, unless ``authenticated`` is None, the caller's standing set."""
    codec = {
        "request_deserializer": _lenient(handler.request_deserializer),
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        behaviour = _unary(handler.unary_unary, authenticated, streamed_in=False)
        return grpc.stream_unary_rpc_method_handler(behaviour, **codec)
    if handler.stream_unary is not None:
        behaviour = _unary(handler.stream_unary, authenticated, streamed_in=True)
        return grpc.stream_unary_rpc_method_handler(behaviour, **codec)
    if handler.unary_stream is not None:
        behaviour = _streaming(handler.unary_stream, authenticated, streamed_in=False)
        return grpc.stream_stream_rpc_method_handler(behaviour, **codec)
    assert handler.stream_stream is not None  # the one kind left
    behaviour = _streaming(handler.stream_stream, authenticated, streamed_in=True)
    return grpc.stream_stream_rpc_method_handler(behaviour, **codec)


class CallGuard(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Installed on every server; ``api_key`` None means every caller is authenticated.

    The guarded handlers are built once per method and standing, then reused: building them
    on every call cost a few microseconds on grpcio's polling thread, which every call waits
    for."""

    def __init__(self, api_key: SecretStr | None) -> None:
        self.api_key = api_key
        self._guarded: dict[tuple[str, bool | None], Handler] = {}

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        authenticated: bool | None = None
        if self.api_key is not None:
            metadata = dict(handler_call_details.invocation_metadata or ())
            authenticated = bearer_matches(metadata.get(METADATA_KEY), self.api_key)
        key = (handler_call_details.method, authenticated)
        handler = self._guarded.get(key)
        if handler is None:
            found = continuation(handler_call_details)
            if found is None:
                return None
            # A race here builds the same handler twice; either copy is right.
            handler = self._guarded[key] = guarded(found, authenticated)
        return handler
