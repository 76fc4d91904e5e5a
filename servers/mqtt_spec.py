"""MQTT: request/response through a broker (paho-mqtt; an embedded amqtt broker unless
--broker names one). Nothing here imports paho or amqtt."""

from protobench.core.errors import ErrorCode
from protobench.protocol_spec import (
    ErrorRow,
    ProtocolSpec,
    ReportStyle,
    Streaming,
    Traits,
    Transport,
)

MQTT_ERROR: ErrorRow[str] = ErrorRow({code: code.value for code in ErrorCode})
"""The error document's ``code`` is the core code's own name (the answer is marked as an
error by the user property error=true, or "error": true in MQTT 3.1.1)."""

SPEC = ProtocolSpec(
    name="mqtt",
    order=80,
    summary="MQTT: request/response through a broker (paho-mqtt; embedded amqtt by default)",
    server="servers.mqtt_server:serve",
    client="clients.mqtt_client:MqttClient",
    default_port=1883,
    errors=MQTT_ERROR,
    transport=Transport.BROKER,
    # Replicas of the embedded broker share the port (each its own broker and adapter, the
    # kernel spreading client connections); on an existing broker (--broker) its shared
    # subscription balances, with no balancer of ours in front.
    balancers=("reuseport",),
    report=ReportStyle("MQTT", "#000000"),
    probe="clients.mqtt_client:MqttProbe",
    locust_user="MqttUser",
    traits=Traits(
        year="1999",
        payload="JSON",
        contract=None,  # topics and JSON bodies by convention (docs/mqtt.md)
        streaming=Streaming.PUBSUB,
        feature={
            "es": "Cola de mensajes entre microservicios (el ejemplo de la clase)",
            "en": "A message queue between microservices (the lecture's example)",
        },
        in_lecture=False,
    ),
)
