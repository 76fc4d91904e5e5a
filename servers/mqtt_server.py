"""MQTT adapter: request/response over a broker (paho-mqtt), the JSON-RPC methods' params and
answers as the payloads.

A request published to ``protobench/v1/{operation}`` carries the operation's params as a JSON
object (``{"model": "iris", "instances": [[...]]}``), validated by the JSON-RPC method table
(``servers.jsonrpc_methods``), so both protocols accept and refuse exactly the same things.
The answer is REST's document (or ``{"code", "message", "details"}`` for an error) published
at QoS 1 to where the request asked:

- MQTT 5: to its ResponseTopic property, with its CorrelationData, an error marked by the user
  property ``error=true``;
- MQTT 3.1.1: to the body's ``reply_to``, echoing its ``correlation_id`` in the JSON, an error
  marked by ``"error": true``; a list answer (list_models, list_predictions) is wrapped in an
  object under the gRPC response's field name (``models``, ``predictions``) to have room for it.

A request with no way to answer is dropped with a log line and counted (operation
``unanswerable`` in the request counters, which the metrics port shows).

``serve`` starts an embedded amqtt broker (MQTT 3.1.1) on the port unless ``mqtt_broker``
names an existing one; with an existing broker the adapter subscribes through the shared
subscription ``$share/protobench/...`` so replicas split the requests, the broker balancing.
With ``tls_cert_file`` the embedded broker serves MQTT over TLS on the port; with
``reuse_port`` replicas share the port, each its own broker (``servers.mqtt_broker``).

On SIGTERM the requests in flight are answered. New ones are refused NOT_READY when the
embedded broker is the only way in (nobody else could answer them), or left to the other
replicas by unsubscribing from a shared subscription.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import ValidationError

from protobench.core.auth import bearer_matches, caller
from protobench.core.errors import CoreError, ErrorCode
from protobench.core.service import InferenceService
from protobench.mqtt_link import (
    AUTHORIZATION,
    CORRELATION_ID,
    ERROR_MARK,
    MQTT5,
    MQTT311,
    REPLY_TO,
    SHARE_GROUP,
    TOPIC_PREFIX,
    LinkError,
    open_link,
    split_address,
    subscribe,
)
from servers.adapter_common import INTERNAL_MESSAGE
from servers.jsonrpc_methods import METHODS, MethodSpec
from servers.listen import Listen, announce

log = logging.getLogger(__name__)

BY_OPERATION: dict[str, MethodSpec] = {spec.name: spec for spec in METHODS}
LIST_FIELD = {"list_models": "models", "list_predictions": "predictions"}
ENVELOPE_KEYS = (REPLY_TO, CORRELATION_ID, AUTHORIZATION)
CONNECT_TIMEOUT_S = 10.0
GRACEFUL_SHUTDOWN_S = 10.0


@dataclass
class ReplyAddress:
    topic: str
    correlation: bytes | str | None
    mqtt5: bool


class MqttAdapter:
    """Subscribed to every operation's topic; answers each request on an asyncio loop of its
    own (a waiting model does not hold the network thread)."""

    def __init__(self, service: InferenceService, broker: tuple[str, int], shared: bool):
        self.service = service
        self.broker = broker
        self.shared = shared
        self.topic = (f"$share/{SHARE_GROUP}/" if shared else "") + TOPIC_PREFIX + "+"
        self.loop = asyncio.new_event_loop()
        self.in_flight = 0
        self.refusing = False  # stopping: new requests are answered NOT_READY
        self.unacknowledged = 0  # answers published whose PUBACK has not come back yet
        self._count = threading.Lock()
        self.client: mqtt.Client | None = None

    def start(self) -> None:
        threading.Thread(target=self.loop.run_forever, name="mqtt-adapter", daemon=True).start()
        client_id = f"protobench-server-{uuid.uuid4().hex[:12]}"
        try:  # MQTT 5 when the broker speaks it (it carries reply properties), else 3.1.1
            self.client = self._open(MQTT5, client_id)
        except LinkError:
            self.client = self._open(MQTT311, client_id)
        self.client.on_publish = self._on_publish
        subscribe(self.client, self.topic, CONNECT_TIMEOUT_S)

    def _on_publish(self, _c: mqtt.Client, _u: Any, _mid: int, _reason: Any, _p: Any) -> None:
        with self._count:
            self.unacknowledged -= 1

    def _open(self, version: Any, client_id: str) -> mqtt.Client:
        return open_link(
            self.broker,
            version,
            client_id=client_id,
            timeout=CONNECT_TIMEOUT_S,
            on_message=self._on_message,
        )

    def stop(self, deliver: Callable[[], None] = lambda: None) -> None:
        """Stop taking requests, let those in flight be answered and their answers reach the
        broker (its PUBACK), disconnect. ``deliver`` returns once the broker has handed over
        what it still held (the embedded one's), so no request is left unanswered in it."""
        if self.client is not None:
            if self.shared:
                self.client.unsubscribe(self.topic)  # the other replicas take the new ones
            else:
                self.refusing = True
                deliver()
            deadline = self.loop.time() + GRACEFUL_SHUTDOWN_S
            while (self.in_flight or self.unacknowledged) and self.loop.time() < deadline:
                threading.Event().wait(0.05)
            self.client.disconnect()
            self.client.loop_stop()
        self.loop.call_soon_threadsafe(self.loop.stop)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._count:
            self.in_flight += 1
        refuse = self.refusing  # decided on arrival: what came before the stop is answered
        asyncio.run_coroutine_threadsafe(self._handle(message, refuse), self.loop)

    async def _handle(self, message: mqtt.MQTTMessage, refuse: bool) -> None:
        try:
            await self._answer(message, refuse)
        except Exception:
            log.exception("unexpected error answering an MQTT request on %s", message.topic)
        finally:
            with self._count:
                self.in_flight -= 1

    async def _answer(self, message: mqtt.MQTTMessage, refuse: bool) -> None:
        operation = message.topic.removeprefix(TOPIC_PREFIX)
        properties = getattr(message, "properties", None)
        user = dict(getattr(properties, "UserProperty", []) or [])
        address = _response_topic(properties)
        limit = self.service.settings.max_body_bytes
        body, problem = _parse(message.payload, limit, for_address=address is None)
        address = address or _reply_to(body)
        if address is None:
            self.service.counters.add("unanswerable", "error")
            log.warning(
                "dropped an MQTT request on %s: it names no ResponseTopic (MQTT 5) and no "
                "reply_to (3.1.1), so it cannot be answered",
                message.topic,
            )
            return
        presented = user.get(AUTHORIZATION) or body.get(AUTHORIZATION)
        try:
            if refuse:
                raise CoreError(ErrorCode.NOT_READY, "the server is stopping; try again later")
            if problem is not None:
                raise problem
            result = await self._run(operation, body, presented)
        except CoreError as exc:
            self._publish(address, _error_document(exc), error=True)
            return
        except Exception:
            log.exception("unexpected error in MQTT operation %s", operation)
            error = CoreError(ErrorCode.INTERNAL, INTERNAL_MESSAGE)
            self._publish(address, _error_document(error), error=True)
            return
        if not address.mqtt5 and operation in LIST_FIELD:
            result = {LIST_FIELD[operation]: result}
        self._publish(address, result, error=False)

    async def _run(self, operation: str, body: dict[str, Any], presented: object) -> Any:
        spec = BY_OPERATION.get(operation)
        if spec is None:
            raise CoreError(
                ErrorCode.INVALID_INPUT,
                f"no operation {operation!r}; publish to {TOPIC_PREFIX}<operation>, one of "
                + ", ".join(BY_OPERATION),
                {"operations": list(BY_OPERATION)},
            )
        params = {k: v for k, v in body.items() if k not in ENVELOPE_KEYS}
        try:
            validated = spec.params.model_validate(params)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "params"
            raise CoreError(
                ErrorCode.INVALID_INPUT, f"{operation}: {where}: {first['msg']}"
            ) from None
        api_key = self.service.settings.api_key
        authenticated = (
            api_key is not None
            and isinstance(presented, str)
            and bearer_matches(presented, api_key)
        )
        with caller(authenticated):
            value = await spec.run(self.service, validated)
        return result_document(spec, value)

    def _publish(self, address: ReplyAddress, document: Any, *, error: bool) -> None:
        assert self.client is not None
        with self._count:
            self.unacknowledged += 1
        payload, properties = reply(address, document, error=error)
        self.client.publish(address.topic, payload, qos=1, properties=properties)


def result_document(spec: MethodSpec, value: Any) -> Any:
    """An operation's answer as REST's document (plain JSON values)."""
    return orjson.loads(spec.result.dump_json(value))


def reply(address: ReplyAddress, document: Any, *, error: bool) -> tuple[bytes, Properties | None]:
    """The answer's payload and, in MQTT 5, its properties: where it answers, whether an
    error."""
    if address.mqtt5:
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if address.correlation is not None:
            properties.CorrelationData = address.correlation
        if error:
            properties.UserProperty = (ERROR_MARK, "true")
        return orjson.dumps(document), properties
    if isinstance(document, dict):
        document = {**document, CORRELATION_ID: address.correlation}
        if error:
            document[ERROR_MARK] = True
    return orjson.dumps(document), None


def _parse(
    payload: bytes | bytearray, limit: int, *, for_address: bool
) -> tuple[dict[str, Any], CoreError | None]:
    """The body as an object, or the caller's error. An MQTT 3.1.1 request names its reply
    topic inside the JSON, so a payload over the limit is still parsed ``for_address`` (the
    broker has already delivered it whole) for that address alone, to answer TOO_LARGE."""
    problem = None
    if len(payload) > limit:
        problem = CoreError(
            ErrorCode.TOO_LARGE,
            f"message of {len(payload)} bytes; the limit is {limit}",
            {"bytes": len(payload), "limit": limit},
        )
        if not for_address:
            return {}, problem
    if not payload:
        return {}, problem
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return {}, problem or CoreError(ErrorCode.INVALID_INPUT, f"the message is not JSON: {exc}")
    if not isinstance(body, dict):
        return {}, problem or CoreError(
            ErrorCode.INVALID_INPUT, "the message must be a JSON object"
        )
    if problem is not None:
        return {key: body[key] for key in ENVELOPE_KEYS if key in body}, problem
    return body, None


def _response_topic(properties: Any) -> ReplyAddress | None:
    """MQTT 5's reply address, outside the payload."""
    topic = getattr(properties, "ResponseTopic", None)
    if topic:
        return ReplyAddress(topic, getattr(properties, "CorrelationData", None), mqtt5=True)
    return None


def _reply_to(body: dict[str, Any]) -> ReplyAddress | None:
    """MQTT 3.1.1's reply address, inside the JSON (no wildcards: a topic to publish to)."""
    reply_to = body.get(REPLY_TO)
    if isinstance(reply_to, str) and reply_to and "+" not in reply_to and "#" not in reply_to:
        return ReplyAddress(reply_to, body.get(CORRELATION_ID), mqtt5=False)
    return None


def _error_document(error: CoreError) -> dict[str, Any]:
    return {"code": error.code.value, "message": error.message, "details": error.details}


def serve(service: InferenceService, listen: Listen) -> None:
    """Start the embedded broker on the port (unless ``mqtt_broker`` names one), subscribe,
    serve until SIGINT/SIGTERM."""
    from servers.mqtt_broker import EmbeddedBroker

    settings = service.settings
    external = settings.mqtt_broker
    tls = None
    if settings.tls_cert_file is not None and settings.tls_key_file is not None:
        if external:
            raise SystemExit(
                "--tls-cert/--tls-key serve TLS on the embedded broker; TLS to an existing "
                "broker (--broker) is that broker's own listener configuration"
            )
        tls = (settings.tls_cert_file, settings.tls_key_file)
    broker = None
    if external:
        address = link = split_address(external)
    else:
        broker = EmbeddedBroker(listen, tls)
        address, link = broker.start()
    adapter = MqttAdapter(service, link, shared=external is not None)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service.load_in_background()
    adapter.start()
    announce(listen, "mqtt", address[1])
    while not stopping.wait(0.5):
        pass
    adapter.stop(broker.deliver if broker is not None else lambda: None)
    if broker is not None:
        broker.stop()
