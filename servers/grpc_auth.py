"""The API key for gRPC: a server interceptor that runs each call as an authenticated caller
or not, by its ``authorization: Bearer <key>`` metadata (the core decides what is allowed).

The call's behaviour is wrapped rather than checked in ``intercept_service`` because grpcio
runs interceptors on its polling thread and the behaviour on a worker thread, and the caller's
standing is a context variable of the thread that runs the behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeAlias

import grpc
from pydantic import SecretStr

from protobench.core.auth import bearer_matches, caller

METADATA_KEY = "authorization"

Behaviour = Callable[[Any, grpc.ServicerContext], Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"  # subscriptable in the stubs only


def _unary(behaviour: Behaviour, authenticated: bool) -> Behaviour:
    def call(request: Any, context: grpc.ServicerContext) -> Any:
        with caller(authenticated):
            return behaviour(request, context)

    return call


def _streaming(behaviour: Behaviour, authenticated: bool) -> Behaviour:
    def call(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        with caller(authenticated):
            yield from behaviour(request, context)

    return call


class ApiKeyInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, api_key: SecretStr) -> None:
        self.api_key = api_key

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        metadata = dict(handler_call_details.invocation_metadata or ())
        ok = bearer_matches(metadata.get(METADATA_KEY), self.api_key)
        codec = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(_unary(handler.unary_unary, ok), **codec)
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(_unary(handler.stream_unary, ok), **codec)
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _streaming(handler.unary_stream, ok), **codec
            )
        assert handler.stream_stream is not None  # the one kind left
        return grpc.stream_stream_rpc_method_handler(_streaming(handler.stream_stream, ok), **codec)
