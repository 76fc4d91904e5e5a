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
    report=ReportStyle(
        "MQTT",
        "#000000",
        note="queue",
        texts={
            "en": {
                "note.queue.title": "A queue between the services: what it adds, what it costs",
                "note.queue.text": "The lecture's level-1 design joins cameras, image "
                "processor and estimator through an MQTT queue. The broker decouples them (the "
                "caller does not know who answers, and either side can restart; with a shared "
                "subscription it spreads the requests over the replicas), buffers bursts, and "
                "redelivers a QoS 1 message nobody acknowledged. The price is an extra hop: "
                "caller → broker → server → broker → caller, four network legs instead of two, "
                "plus the broker's own CPU.",
                "note.queue.evidence": "a call took a median {rest_p50} ms with REST and "
                "{p50} ms through the queue; bodies per call were {rest_body} and {body} bytes, "
                "and the server spent {rest_us} µs and {us} µs of CPU per request (with MQTT's "
                "embedded broker, the broker's work included).",
            },
            "es": {
                "note.queue.title": "Una cola entre los servicios: qué aporta y qué cuesta",
                "note.queue.text": "El diseño de nivel 1 de la clase une las cámaras, el "
                "procesador de imágenes y el estimador a través de una cola MQTT. El bróker los "
                "desacopla (quien llama no sabe quién responde, y cualquiera de los dos puede "
                "reiniciarse; con una suscripción compartida reparte las solicitudes entre las "
                "réplicas), absorbe las ráfagas y vuelve a entregar un mensaje QoS 1 que nadie "
                "confirmó. El precio es un salto más: cliente → bróker → servidor → bróker → "
                "cliente, cuatro tramos de red en lugar de dos, más la CPU del propio bróker.",
                "note.queue.evidence": "una llamada tardó una mediana de {rest_p50} ms con REST "
                "y {p50} ms a través de la cola; los cuerpos por llamada fueron de {rest_body} y "
                "{body} bytes, y el servidor gastó {rest_us} µs y {us} µs de CPU por solicitud "
                "(con el bróker embebido de MQTT, incluido el trabajo del bróker).",
            },
        },
    ),
    probe="clients.mqtt_client:MqttProbe",
    codec="servers.mqtt_codec:codec",
    locust_user="MqttUser",
    load_client_options={"transport": "wire"},  # prepared calls without paho's network thread
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
