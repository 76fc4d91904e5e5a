"""gRPC client over one channel, with a default deadline on every call.

The target is ``host:port``, any gRPC target URI, or several addresses for client-side load
balancing (``ipv4:127.0.0.1:5001,127.0.0.1:5002`` or a list of ``host:port``); with several,
the channel balances calls round robin over one connection per address.

Under gevent (Locust), call ``grpc.experimental.gevent.init_gevent()`` before the first
channel is created in the process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

import grpc

from clients.base import ClientError, InferenceClient, Prepared
from clients.grpc_h2c import GrpcStatus, H2cChannel, RetryPolicy
from clients.probe import IRIS_ROW, Probe, Verdict, padded_protobuf
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
from protobench.proto_convert import (
    ERROR_DETAILS_KEY,
    error_details_from_metadata,
    feedback_response_from_pb,
    health_from_pb,
    model_metadata_from_pb,
    predict_request_to_pb,
    predict_response_from_pb,
    stored_prediction_from_pb,
    strategy_config_to_pb,
    strategy_status_from_pb,
)
from protobench.v1 import inference_pb2 as pb
from protobench.v1 import inference_pb2_grpc as pb_grpc
from servers.grpc_spec import GRPC_STATUS

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["InferenceService"].full_name
# Calls that change nothing on the server are retried (up to 3 attempts in all) when the server
# answers UNAVAILABLE (shutting down, or its connection dropped); DeleteVersion, the strategy
# changes and Feedback never are. Every attempt shares the call's one deadline.
RETRIED_RPCS = (
    "ListModels",
    "GetModel",
    "Predict",
    "PredictImage",
    "Health",
    "GetStrategy",
    "GetPrediction",
    "ListPredictions",
)
RETRY = RetryPolicy()
RETRY_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{"service": SERVICE_NAME, "method": rpc} for rpc in RETRIED_RPCS],
                "retryPolicy": {
                    "maxAttempts": RETRY.max_attempts,
                    "initialBackoff": f"{RETRY.initial_backoff_s}s",
                    "maxBackoff": f"{RETRY.max_backoff_s}s",
                    "backoffMultiplier": RETRY.multiplier,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)
STATUS_NAMES = {status.value[0]: status.name for status in grpc.StatusCode}


class PredictCall(NamedTuple):
    """One request on a prediction stream."""

    model: str
    instances: Sequence[Sequence[float]]
    version: str | None = None
    caller: str | None = None


def channel_target(target: str | Sequence[str]) -> str:
    """A list of ``host:port`` -> one ``ipv4:``/``ipv6:`` target URI; a string is kept."""
    if isinstance(target, str):
        return target
    scheme = "ipv6" if any(address.startswith("[") for address in target) else "ipv4"
    return f"{scheme}:{','.join(target)}"


def is_multi_address(target: str) -> bool:
    return "," in target


def _server_details(trailers: Iterable[tuple[str, str | bytes]]) -> dict[str, Any] | None:
    """The details dict our server attaches to every error it raises; None when the error
    did not come from protobench's code (the transport, or grpc's own limits)."""
    for key, value in trailers:
        if key == ERROR_DETAILS_KEY:
            return error_details_from_metadata(value)
    return None


# Statuses that, without our server's details, mean the call never got an answer.
TRANSPORT_STATUSES = ("UNAVAILABLE", "DEADLINE_EXCEEDED")


class LeanCall(NamedTuple):
    rpc: str
    request: Any  # the request message class
    reply: Any  # the reply message class
    check: Callable[[Any], bool]


def _labelled(reply: pb.PredictResponse) -> bool:
    return bool(reply.predictions) and all(p.label for p in reply.predictions)


LEAN_CALLS = {
    "predict": LeanCall("Predict", pb.PredictRequest, pb.PredictResponse, _labelled),
    "predict_image": LeanCall("PredictImage", pb.PredictImageRequest, pb.PredictResponse,
                              _labelled),
    "get_model": LeanCall("GetModel", pb.GetModelRequest, pb.ModelMetadata,
                          lambda reply: bool(reply.name)),
    "list_models": LeanCall("ListModels", pb.ListModelsRequest, pb.ListModelsResponse,
                            lambda reply: all(m.name for m in reply.models)),
}  # fmt: skip


Metadata = tuple[tuple[str, str], ...]


def open_channel(
    uri: str,
    *,
    local_subchannel_pool: bool = False,
    api_key: str | None = None,
    tls_ca: str | Path | None = None,
) -> tuple[grpc.Channel, Metadata]:
    """A channel with the options every gRPC-borne client uses, and the metadata to send."""
    options: list[tuple[str, Any]] = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.service_config", RETRY_SERVICE_CONFIG),
    ]
    if is_multi_address(uri):
        options.append(("grpc.lb_policy_name", "round_robin"))
    if local_subchannel_pool:
        options.append(("grpc.use_local_subchannel_pool", 1))
    metadata: Metadata = (("authorization", f"Bearer {api_key}"),) if api_key else ()
    if tls_ca is None:
        return grpc.insecure_channel(uri, options=options), metadata
    root = Path(tls_ca).read_bytes()
    tls = grpc.ssl_channel_credentials(root_certificates=root)
    return grpc.secure_channel(uri, tls, options=options), metadata


def status_error(status: str, message: str, details: dict[str, Any] | None, target: str,
                 timeout: float) -> ClientError:  # fmt: skip
    """A failed call (its status by name) as a ClientError through the gRPC row of the error
    table, whichever transport carried it; a transport failure says what it was."""
    if details is None and status in TRANSPORT_STATUSES:
        if status == "DEADLINE_EXCEEDED":
            message = f"no answer within {timeout}s"
        else:
            message = f"cannot reach {target}: {message}"
        return ClientError(GRPC_STATUS.to_core(status), message)
    return ClientError(GRPC_STATUS.to_core(status), message, details, protocol_status=status)


def rpc_error(error: grpc.RpcError, target: str, timeout: float) -> ClientError:
    """A failed grpcio call as a ClientError."""
    status: grpc.StatusCode = error.code()
    trailers = ((item.key, item.value) for item in error.trailing_metadata() or ())
    return status_error(
        status.name, error.details() or status.name, _server_details(trailers), target, timeout
    )


def h2c_error(error: GrpcStatus, target: str, timeout: float) -> ClientError:
    """A failed h2c call as a ClientError, exactly as ``rpc_error`` reads grpcio's."""
    status = STATUS_NAMES.get(error.code, "UNKNOWN")
    return status_error(
        status, error.message or status, _server_details(error.trailers.items()), target, timeout
    )


GrpcTransport = Literal["grpcio", "h2c"]


class LeanChannel:
    """Unary calls on bytes for prepared calls, over grpcio's channel or, with ``h2c``, over
    ``clients.grpc_h2c`` (a fraction of grpcio's CPU per call; the Locust users' choice).
    Every caller raises ClientError."""

    def __init__(self, channel: grpc.Channel, metadata: Metadata, transport: GrpcTransport,
                 target: str, timeout: float, *, tls: bool) -> None:  # fmt: skip
        if transport == "h2c" and tls:
            raise ValueError("the h2c transport is cleartext: use transport='grpcio' with TLS")
        self._channel, self._metadata = channel, metadata
        self._target, self._timeout = target, timeout
        self._h2c = (
            H2cChannel(target, timeout=timeout, metadata=metadata, retry=RETRY)
            if transport == "h2c"
            else None
        )

    def unary(self, path: str) -> Callable[[bytes], bytes]:
        target, timeout, metadata = self._target, self._timeout, self._metadata
        if self._h2c is not None:
            h2c = self._h2c.unary(path)

            def over_h2c(request: bytes) -> bytes:
                try:
                    return h2c(request)
                except GrpcStatus as exc:
                    raise h2c_error(exc, target, timeout) from None

            return over_h2c
        rpc = self._channel.unary_unary(path, None, None)  # no serialisers: bytes in and out

        def over_grpcio(request: bytes) -> bytes:
            try:
                reply: bytes = rpc(request, timeout=timeout, metadata=metadata)
            except grpc.RpcError as exc:
                raise rpc_error(exc, target, timeout) from None
            return reply

        return over_grpcio

    def close(self) -> None:
        if self._h2c is not None:
            self._h2c.close()


class GrpcClient(InferenceClient):
    protocol = "grpc"

    def __init__(
        self,
        target: str | Sequence[str],
        *,
        timeout: float = 10.0,
        local_subchannel_pool: bool = False,
        api_key: str | None = None,
        tls_ca: str | Path | None = None,
        transport: GrpcTransport = "grpcio",
    ) -> None:
        """``local_subchannel_pool`` gives this client connections of its own instead of
        sharing them with every other channel to the same address in the process (load tests
        want one connection per simulated user). ``api_key`` goes out as ``authorization``
        metadata on every call; ``tls_ca`` (the PEM that certifies the server) turns TLS on.
        ``transport="h2c"`` sends prepared calls over ``clients.grpc_h2c`` (cleartext only)."""
        uri = channel_target(target)
        super().__init__(uri, timeout=timeout)
        self._channel, self._metadata = open_channel(
            uri, local_subchannel_pool=local_subchannel_pool, api_key=api_key, tls_ca=tls_ca
        )
        self._lean = LeanChannel(self._channel, self._metadata, transport, uri, timeout,
                                 tls=tls_ca is not None)  # fmt: skip
        # The generated grpc module has no type hints; its stub methods are Any.
        self._stub = pb_grpc.InferenceServiceStub(self._channel)  # type: ignore[no-untyped-call]

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self.timeout, metadata=self._metadata)
        except grpc.RpcError as exc:
            raise rpc_error(exc, self.target, self.timeout) from None

    def list_models(self) -> list[ModelMetadata]:
        reply: pb.ListModelsResponse = self._call(self._stub.ListModels, pb.ListModelsRequest())
        return [model_metadata_from_pb(m) for m in reply.models]

    def get_model(self, name: str) -> ModelMetadata:
        return model_metadata_from_pb(
            self._call(self._stub.GetModel, pb.GetModelRequest(name=name))
        )

    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        request = _predict_request(PredictCall(model, instances, version, caller))
        return predict_response_from_pb(self._call(self._stub.Predict, request))

    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse:
        request = pb.PredictImageRequest(model=model, image=image)
        if version is not None:
            request.version = version
        return predict_response_from_pb(self._call(self._stub.PredictImage, request))

    def predict_stream(
        self, calls: Iterable[PredictCall], *, timeout: float | None = None
    ) -> Iterator[PredictResponse | ClientError]:
        """Send every call on one PredictStream and yield one result per call, in order: the
        response, or the ClientError of that call alone (the stream goes on). A failure of the
        whole stream (unreachable server, the deadline of ``timeout`` or the client's default
        timeout over the whole stream) raises ClientError. Every call is encoded before the first
        is sent, so a malformed one raises ClientError before anything goes out."""
        requests = [_predict_request(call) for call in calls]
        try:
            stream = self._stub.PredictStream(
                iter(requests), timeout=timeout or self.timeout, metadata=self._metadata
            )
            for item in stream:
                if item.HasField("error"):
                    error = item.error
                    code = ErrorCode.__members__.get(error.code, ErrorCode.INTERNAL)
                    status = STATUS_NAMES.get(error.grpc_status, str(error.grpc_status))
                    yield ClientError(code, error.message, protocol_status=status)
                else:
                    yield predict_response_from_pb(item.response)
        except grpc.RpcError as exc:
            raise rpc_error(exc, self.target, self.timeout) from None

    def prepare(self, operation: str, **arguments: Any) -> Prepared:
        """The load test's operations as generic unary calls on bytes serialised once: no
        protobuf encoding per call, and the answer parsed and checked (a label in every
        prediction, a name on every model) instead of converted to core types."""
        lean = LEAN_CALLS.get(operation)
        if lean is None:
            return super().prepare(operation, **arguments)
        if operation == "predict":
            request: Any = _predict_request(PredictCall(**arguments))
        else:
            request = lean.request(**{k: v for k, v in arguments.items() if v is not None})
        data = request.SerializeToString()
        rpc = self._lean.unary(f"/{SERVICE_NAME}/{lean.rpc}")
        reply_type, check = lean.reply, lean.check

        def send() -> object:
            reply = reply_type.FromString(rpc(data))
            if not check(reply):
                raise ClientError(ErrorCode.INTERNAL, f"{operation}: unexpected answer {reply}")
            return reply

        return send

    def delete_version(self, model: str, version: str) -> None:
        self._call(self._stub.DeleteVersion, pb.DeleteVersionRequest(model=model, version=version))

    def health(self) -> Health:
        return health_from_pb(self._call(self._stub.Health, pb.HealthRequest()))

    def close(self) -> None:
        self._lean.close()
        self._channel.close()

    def get_strategy(self, model: str) -> StrategyStatus:
        reply = self._call(self._stub.GetStrategy, pb.GetStrategyRequest(model=model))
        return strategy_status_from_pb(reply)

    def set_strategy(self, model: str, strategy: StrategyConfig) -> StrategyStatus:
        request = pb.SetStrategyRequest(model=model, strategy=strategy_config_to_pb(strategy))
        return strategy_status_from_pb(self._call(self._stub.SetStrategy, request))

    def promote(self, model: str) -> StrategyStatus:
        reply = self._call(self._stub.Promote, pb.PromoteRequest(model=model))
        return strategy_status_from_pb(reply)

    def rollback(self, model: str) -> StrategyStatus:
        reply = self._call(self._stub.Rollback, pb.RollbackRequest(model=model))
        return strategy_status_from_pb(reply)

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        request = pb.FeedbackRequest(prediction_id=prediction_id, reward=reward)
        return feedback_response_from_pb(self._call(self._stub.Feedback, request))

    def get_prediction(self, prediction_id: str) -> StoredPrediction:
        request = pb.GetPredictionRequest(prediction_id=prediction_id)
        return stored_prediction_from_pb(self._call(self._stub.GetPrediction, request))

    def list_predictions(
        self, job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]:
        request = pb.ListPredictionsRequest(job=job, limit=limit, offset=offset)
        reply: pb.ListPredictionsResponse = self._call(self._stub.ListPredictions, request)
        return [stored_prediction_from_pb(p) for p in reply.predictions]


def _predict_request(call: PredictCall) -> pb.PredictRequest:
    try:
        return predict_request_to_pb(call.model, call.instances, call.version, call.caller)
    except (TypeError, ValueError) as exc:
        raise ClientError(
            ErrorCode.INVALID_INPUT, f"instances must be rows of numbers: {exc}"
        ) from None


class GrpcProbe(Probe):
    """Raw messages for the hardening tests (``clients.probe``): request bytes go out
    unparsed, on any method of the service, and answers stay bytes."""

    body_format = "protobuf"
    service = pb.DESCRIPTOR.services_by_name["InferenceService"]

    def __init__(self, target: str, *, timeout: float = 30.0) -> None:
        super().__init__(target, timeout=timeout)
        self.channel = grpc.insecure_channel(target)

    def predict_body(self, rows: Any) -> bytes:
        return bytes(predict_request_to_pb("iris", rows).SerializeToString())

    def send(self, body: bytes | Iterator[bytes]) -> Verdict:
        return self.call("Predict", body if isinstance(body, bytes) else b"".join(body))

    def call(self, method: str, payload: bytes) -> Verdict:
        """``payload`` as the request of the unary ``method``."""
        try:
            self.channel.unary_unary(f"/{self.service.full_name}/{method}", None, None)(
                payload, timeout=self.timeout
            )
        except grpc.RpcError as exc:
            return self._failed(exc)
        return Verdict("OK")

    def stream(self, method: str, messages: list[bytes]) -> Verdict:
        """``messages`` as the request stream of ``method``; the replies' in-band errors too."""
        path = f"/{self.service.full_name}/{method}"
        verdict = Verdict("OK")
        try:
            replies = list(self.channel.stream_stream(path, None, None)(iter(messages)))
        except grpc.RpcError as exc:
            return self._failed(exc)
        for raw in replies:
            reply = pb.PredictStreamResponse.FromString(raw)
            if reply.HasField("error"):
                verdict.errors.append(
                    ErrorCode.__members__.get(reply.error.code, ErrorCode.INTERNAL)
                )
                verdict.text += reply.error.message
        return verdict

    def padded(self, size: int) -> bytes:
        return padded_protobuf(self.predict_body([IRIS_ROW]), size)

    @staticmethod
    def _failed(exc: grpc.RpcError) -> Verdict:
        status: grpc.StatusCode = exc.code()
        return Verdict(status.name, [GRPC_STATUS.to_core(status.name)], exc.details() or "")

    def close(self) -> None:
        self.channel.close()
