"""MQTT client (paho-mqtt): each call is a request published to ``protobench/v1/{operation}``
and an answer awaited on this client's own reply topic.

``version="auto"`` (the default) speaks MQTT 5 (ResponseTopic and CorrelationData properties)
when the broker accepts it and MQTT 3.1.1 (``reply_to``/``correlation_id`` in the JSON)
otherwise, as with the embedded amqtt broker. A call with no answer within ``timeout`` is
DEADLINE_EXCEEDED: the broker may still deliver it, and the server may still answer it later
(the late answer is ignored).

``transport="wire"`` (the Locust users') sends prepared calls over ``clients.mqtt_wire``, a
connection of their own without paho's network thread, each PUBLISH encoded once and its answer
checked rather than validated; the full operations keep paho.
"""

from __future__ import annotations

import base64
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from clients.base import ClientError, InferenceClient, Prepared, check_answer
from clients.mqtt_wire import MqttWire, WireError
from clients.probe import IRIS_ROW, Probe, Verdict
from protobench.core.errors import ErrorCode
from protobench.core.types import (
    DeleteVersionResponse,
    FeedbackResponse,
    Health,
    ModelMetadata,
    PredictResponse,
    StoredPrediction,
    StrategyConfig,
    StrategyStatus,
)
from protobench.mqtt_link import (
    AUTHORIZATION,
    CORRELATION_ID,
    ERROR_MARK,
    MQTT5,
    MQTT311,
    REPLY_TO,
    TOPIC_PREFIX,
    LinkError,
    open_link,
    split_address,
    subscribe,
)

Version = Literal["auto", "5", "3.1.1"]
MqttTransport = Literal["paho", "wire"]
TRIED_VERSIONS = {"auto": (MQTT5, MQTT311), "5": (MQTT5,), "3.1.1": (MQTT311,)}
LEAN_OPERATIONS = ("predict", "predict_image", "get_model", "list_models")
LIST_FIELD = {"list_models": "models", "list_predictions": "predictions"}


class _Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: Any = None
        self.error = False


class MqttClient(InferenceClient):
    protocol = "mqtt"

    def __init__(
        self,
        target: str,
        *,
        timeout: float = 10.0,
        api_key: str | None = None,
        tls_ca: str | Path | None = None,
        version: Version = "auto",
        transport: MqttTransport = "paho",
    ) -> None:
        """``target`` is the broker (``host:port`` or ``mqtt://host:port``); ``tls_ca``, the
        PEM file that certifies it, turns TLS on; ``transport="wire"`` sends prepared calls
        over ``clients.mqtt_wire``."""
        super().__init__(target, timeout=timeout)
        self._tls = None if tls_ca is None else ssl.create_default_context(cafile=str(tls_ca))
        self._address = split_address(target)
        self._api_key = api_key
        self._version = version
        self._client_id = f"protobench-client-{uuid.uuid4().hex[:12]}"
        self._reply_topic = f"{TOPIC_PREFIX}replies/{self._client_id}"
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._link: mqtt.Client | None = None
        self.mqtt5 = False
        self._wire = (
            MqttWire(self._address, versions=tuple(v == MQTT5 for v in TRIED_VERSIONS[version]),
                     client_id=f"{self._client_id}-wire", reply_topic=f"{self._reply_topic}/wire",
                     timeout=timeout, api_key=api_key, tls=self._tls)
            if transport == "wire" else None
        )  # fmt: skip

    # -- connection ------------------------------------------------------------------------------

    def _connect(self) -> mqtt.Client:
        problem: LinkError | None = None
        for version in TRIED_VERSIONS[self._version]:
            try:
                link = open_link(
                    self._address,
                    version,
                    client_id=self._client_id,
                    timeout=self.timeout,
                    on_message=self._on_message,
                    tls=self._tls,
                )
            except LinkError as exc:
                problem = exc
                continue
            try:
                subscribe(link, self._reply_topic, self.timeout)
            except LinkError as exc:
                link.disconnect()
                link.loop_stop()
                raise ClientError(ErrorCode.NOT_READY, str(exc)) from exc
            self.mqtt5 = version == MQTT5
            self._link = link
            return link
        raise ClientError(ErrorCode.NOT_READY, str(problem))

    def close(self) -> None:
        if self._wire is not None:
            self._wire.close()
        if self._link is not None:
            self._link.disconnect()
            self._link.loop_stop()
            self._link = None

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            answer = orjson.loads(message.payload)
        except orjson.JSONDecodeError:
            return
        properties = getattr(message, "properties", None)
        correlation = getattr(properties, "CorrelationData", None)
        if correlation is not None:
            key = bytes(correlation).decode(errors="replace")
            error = dict(getattr(properties, "UserProperty", []) or []).get(ERROR_MARK) == "true"
        elif isinstance(answer, dict):
            key = str(answer.pop(CORRELATION_ID, ""))
            error = answer.pop(ERROR_MARK, False) is True
        else:
            return
        with self._lock:
            pending = self._pending.pop(key, None)
        if pending is not None:
            pending.answer, pending.error = answer, error
            pending.done.set()

    # -- one call --------------------------------------------------------------------------------

    def call(self, operation: str, params: dict[str, Any] | None = None) -> Any:
        """Publish one request and wait for its answer (REST's document)."""
        link = self._link or self._connect()
        key, payload = self._encoded(params)
        return self._request(link, operation, payload, key)

    def _encoded(self, params: dict[str, Any] | None) -> tuple[str, bytes]:
        """A request's correlation key and payload."""
        key = uuid.uuid4().hex
        body = dict(params or {})
        if not self.mqtt5:  # no properties: the reply address and the key go in the JSON
            body.update({REPLY_TO: self._reply_topic, CORRELATION_ID: key})
            if self._api_key:
                body[AUTHORIZATION] = f"Bearer {self._api_key}"
        return key, _dumps(body)

    def call_raw(self, operation: str, payload: bytes) -> Any:
        """Publish ``payload`` as it is, whatever it holds, and wait for the answer. MQTT 5
        only: there the reply address travels outside the payload."""
        link = self._link or self._connect()
        if not self.mqtt5:
            raise ClientError(
                ErrorCode.INVALID_INPUT,
                "in MQTT 3.1.1 the reply address is inside the JSON payload: a raw payload "
                "needs MQTT 5 (version='5', a broker that speaks it)",
            )
        return self._request(link, operation, payload, uuid.uuid4().hex)

    def _request(self, link: mqtt.Client, operation: str, payload: bytes, key: str) -> Any:
        pending = _Pending()
        with self._lock:
            self._pending[key] = pending
        properties = None
        if self.mqtt5:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.ResponseTopic = self._reply_topic
            properties.CorrelationData = key.encode()
            if self._api_key:
                properties.UserProperty = (AUTHORIZATION, f"Bearer {self._api_key}")
        info = link.publish(TOPIC_PREFIX + operation, payload, qos=1, properties=properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self._forget(key)
            self.close()
            raise ClientError(ErrorCode.NOT_READY, f"cannot publish: {mqtt.error_string(info.rc)}")
        return self._wait(key, pending, operation)

    def _wait(self, key: str, pending: _Pending, operation: str) -> Any:
        if not pending.done.wait(self.timeout):
            self._forget(key)
            raise _timed_out(self.timeout)
        return _answer(operation, pending.answer, pending.error, mqtt5=self.mqtt5)

    def _forget(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)

    # -- the interface ---------------------------------------------------------------------------

    def _typed(self, decode: Callable[[Any], Any], operation: str, **params: Any) -> Any:
        return decode(self.call(operation, _params(params)))

    def prepare(self, operation: str, **arguments: Any) -> Prepared:
        if self._wire is None or operation not in LEAN_OPERATIONS:
            return super().prepare(operation, **arguments)
        exchange, wire = self._wire.prepare(operation, _params(arguments)), self._wire

        def send() -> object:
            try:
                answer, error = exchange()
            except TimeoutError:
                raise _timed_out(self.timeout) from None
            except WireError as exc:
                raise ClientError(ErrorCode.NOT_READY, str(exc)) from exc
            return check_answer(operation, _answer(operation, answer, error, mqtt5=wire.mqtt5))

        return send

    def list_models(self) -> list[ModelMetadata]:
        return [ModelMetadata.model_validate(m) for m in self.call("list_models")]

    def get_model(self, name: str) -> ModelMetadata:
        model: ModelMetadata = self._typed(ModelMetadata.model_validate, "get_model", name=name)
        return model

    def predict(
        self,
        model: str,
        instances: Sequence[Sequence[float]],
        version: str | None = None,
        caller: str | None = None,
    ) -> PredictResponse:
        answer: PredictResponse = self._typed(
            PredictResponse.model_validate,
            "predict",
            model=model,
            instances=instances,
            version=version,
            caller=caller,
        )
        return answer

    def predict_image(
        self, model: str, image: bytes, version: str | None = None
    ) -> PredictResponse:
        answer: PredictResponse = self._typed(
            PredictResponse.model_validate,
            "predict_image",
            model=model,
            image=image,
            version=version,
        )
        return answer

    def delete_version(self, model: str, version: str) -> None:
        self._typed(
            DeleteVersionResponse.model_validate, "delete_version", model=model, version=version
        )

    def health(self) -> Health:
        health: Health = self._typed(Health.model_validate, "health")
        return health

    def _status(self, operation: str, **params: Any) -> StrategyStatus:
        status: StrategyStatus = self._typed(StrategyStatus.model_validate, operation, **params)
        return status

    def get_strategy(self, model: str) -> StrategyStatus:
        return self._status("get_strategy", model=model)

    def set_strategy(self, model: str, strategy: StrategyConfig) -> StrategyStatus:
        return self._status("set_strategy", model=model, strategy=strategy.model_dump())

    def promote(self, model: str) -> StrategyStatus:
        return self._status("promote", model=model)

    def rollback(self, model: str) -> StrategyStatus:
        return self._status("rollback", model=model)

    def feedback(self, prediction_id: str, reward: float) -> FeedbackResponse:
        answer: FeedbackResponse = self._typed(
            FeedbackResponse.model_validate, "feedback", prediction_id=prediction_id, reward=reward
        )
        return answer

    def get_prediction(self, prediction_id: str) -> StoredPrediction:
        stored: StoredPrediction = self._typed(
            StoredPrediction.model_validate, "get_prediction", prediction_id=prediction_id
        )
        return stored

    def list_predictions(
        self, job: str, limit: int = 100, offset: int = 0
    ) -> list[StoredPrediction]:
        page = self.call("list_predictions", {"job": job, "limit": limit, "offset": offset})
        return [StoredPrediction.model_validate(p) for p in page]


def _params(arguments: dict[str, Any]) -> dict[str, Any]:
    """An operation's arguments as its request's JSON fields: None left out, an image in
    base64."""
    return {
        name: base64.b64encode(value).decode() if isinstance(value, bytes) else value
        for name, value in arguments.items()
        if value is not None
    }


def _timed_out(timeout: float) -> ClientError:
    return ClientError(ErrorCode.DEADLINE_EXCEEDED, f"no answer within {timeout}s")


def _answer(operation: str, answer: Any, error: bool, *, mqtt5: bool) -> Any:
    """An answer's document, or its error raised as a ClientError; MQTT 3.1.1 wraps a list in
    an object."""
    if error:
        raise _error(answer)
    if not mqtt5 and operation in LIST_FIELD and isinstance(answer, dict):
        answer = answer.get(LIST_FIELD[operation], [])
    return answer


def _dumps(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def _error(answer: Any) -> ClientError:
    document = answer if isinstance(answer, dict) else {}
    code = str(document.get("code"))
    details = document.get("details")
    return ClientError(
        ErrorCode(code) if code in ErrorCode.__members__ else ErrorCode.INTERNAL,
        str(document.get("message", "error answer without a message")),
        details if isinstance(details, dict) else None,
        protocol_status=code,
    )


class MqttProbe(Probe):
    """Raw payloads for the hardening tests, published to protobench/v1/predict over MQTT 5
    with this probe's reply topic and correlation data as properties: whatever the bytes, the
    server knows where to answer. It needs an MQTT 5 broker; the hardening suite runs the MQTT
    server through a mosquitto (tests/hardening/conftest.py)."""

    body_format = "json"

    def __init__(self, target: str, *, timeout: float = 30.0) -> None:
        super().__init__(target, timeout=timeout)
        self.client = MqttClient(target, timeout=timeout, version="5")

    def predict_body(self, rows: Any) -> bytes:
        return orjson.dumps({"model": "iris", "instances": rows})

    def padded(self, size: int) -> bytes:
        body = self.predict_body([IRIS_ROW])
        return body + b" " * (size - len(body))  # whitespace after the document is still JSON

    def send(self, body: bytes | Iterator[bytes]) -> Verdict:
        payload = body if isinstance(body, bytes) else b"".join(body)
        try:
            answer = self.client.call_raw("predict", payload)
        except ClientError as exc:
            return Verdict(exc.code.value, [exc.code], exc.message)
        return Verdict("OK", text=str(answer))

    def close(self) -> None:
        self.client.close()
