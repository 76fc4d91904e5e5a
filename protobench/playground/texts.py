"""The playground's words in Spanish and English, in the lecture's vocabulary.

Labels are translated in the browser by gradio's I18n from the browser's language; sentences
the server writes (summaries, tables) follow the request's Accept-Language the same way.
"""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "protobench playground: one model, every protocol",
        "intro": "Send the same prediction over each API protocol and see what crosses the wire.",
        "tab.predict": "Predict",
        "tab.compare": "Compare",
        "tab.strategies": "Deployment strategies",
        "tab.load": "Load",
        "protocol": "Protocol",
        "features": "Features (comma-separated)",
        "sepal_length": "Sepal length (cm)",
        "sepal_width": "Sepal width (cm)",
        "petal_length": "Petal length (cm)",
        "petal_width": "Petal width (cm)",
        "predict": "Predict the flower",
        "digit": "Draw or upload a digit",
        "predict_digit": "Predict the digit",
        "probabilities": "Probabilities",
        "request": "Request, as sent",
        "response": "Response, as received",
        "compare": "Compare every protocol",
        "compare_help": "The same flower over every protocol, and once in this browser with no "
        "server at all (the on-device pattern: the page got the weights once, as JSON).",
        "model": "Model",
        "kind": "Strategy",
        "versions": "Versions (comma-separated)",
        "weights": "A/B weights (comma-separated, optional)",
        "canary_percent": "Canary: % of calls to the candidate",
        "apply": "Apply strategy",
        "burst": "Send a burst",
        "burst_size": "Requests",
        "send": "Send",
        "status": "Traffic per version (live)",
        "histogram": "Latency histogram (ms)",
        # sentences the server writes
        "summary": "**{label}** — version {version}, served by `{served_by}`, "
        "{latency} ms on a warm connection. Over {transport}: request {req} bytes, "
        "response {resp} bytes (steady state; opening the connection and the first call took "
        "{setup} more). Plain script for this protocol: `{script}`.",
        "failed": "**{code}**: {message}",
        "col.protocol": "protocol",
        "col.label": "label",
        "col.latency": "latency (ms)",
        "col.request": "request bytes",
        "col.response": "response bytes",
        "ondevice": "on-device (this browser)",
        "ondevice_json": "What this browser computed (JSON)",
        "event": "Last event: {event}",
        "load_summary": "{done} of {n} requests over {protocol}: p50 {p50} ms, p99 {p99} ms, "
        "{errors} errors. This is a demonstration; measure with `protobench bench`.",
        "bad_features": "Give {n} numbers separated by commas, e.g. 5.1,3.5,1.4,0.2.",
        "bad_strategy": "Could not set the strategy: {message}",
    },
    "es": {
        "title": "Playground de protobench: un modelo, todos los protocolos",
        "intro": "Envíen la misma predicción por cada protocolo de API y vean qué viaja por "
        "la red.",
        "tab.predict": "Predecir",
        "tab.compare": "Comparar",
        "tab.strategies": "Estrategias de despliegue",
        "tab.load": "Carga",
        "protocol": "Protocolo",
        "features": "Características (separadas por comas)",
        "sepal_length": "Largo del sépalo (cm)",
        "sepal_width": "Ancho del sépalo (cm)",
        "petal_length": "Largo del pétalo (cm)",
        "petal_width": "Ancho del pétalo (cm)",
        "predict": "Predecir la flor",
        "digit": "Dibujen o suban un dígito",
        "predict_digit": "Predecir el dígito",
        "probabilities": "Probabilidades",
        "request": "Solicitud, tal como se envió",
        "response": "Respuesta, tal como llegó",
        "compare": "Comparar todos los protocolos",
        "compare_help": "La misma flor por cada protocolo, y una vez en este navegador sin "
        "servidor (el patrón en el dispositivo: la página recibió los pesos una vez, en JSON).",
        "model": "Modelo",
        "kind": "Estrategia",
        "versions": "Versiones (separadas por comas)",
        "weights": "Pesos A/B (separados por comas, opcional)",
        "canary_percent": "Canary: % de llamadas a la candidata",
        "apply": "Aplicar la estrategia",
        "burst": "Enviar una ráfaga",
        "burst_size": "Solicitudes",
        "send": "Enviar",
        "status": "Tráfico por versión (en vivo)",
        "histogram": "Histograma de latencia (ms)",
        "summary": "**{label}** — versión {version}, atendida por `{served_by}`, "
        "{latency} ms con la conexión abierta. Sobre {transport}: solicitud de {req} bytes, "
        "respuesta de {resp} bytes (régimen estable; abrir la conexión y la primera llamada "
        "costaron {setup} más). Script simple para este protocolo: `{script}`.",
        "failed": "**{code}**: {message}",
        "col.protocol": "protocolo",
        "col.label": "etiqueta",
        "col.latency": "latencia (ms)",
        "col.request": "bytes de solicitud",
        "col.response": "bytes de respuesta",
        "ondevice": "en el dispositivo (este navegador)",
        "ondevice_json": "Lo que calculó este navegador (JSON)",
        "event": "Último evento: {event}",
        "load_summary": "{done} de {n} solicitudes por {protocol}: p50 {p50} ms, p99 {p99} ms, "
        "{errors} errores. Es una demostración; para medir usen `protobench bench`.",
        "bad_features": "Escriban {n} números separados por comas, p. ej. 5.1,3.5,1.4,0.2.",
        "bad_strategy": "No se pudo aplicar la estrategia: {message}",
    },
}


def language(accept_language: str | None) -> str:
    """The first of the browser's languages that the playground speaks; English otherwise."""
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in TEXTS:
            return code
    return "en"


def say(lang: str, key: str, **values: Any) -> str:
    return TEXTS[lang][key].format(**values)
