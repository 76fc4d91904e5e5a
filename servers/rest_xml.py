"""XML on REST: the same documents as JSON, for a caller whose ``Accept`` prefers
``application/xml`` (or ``text/xml``); JSON stays the default, errors follow the same rule.

An ASGI middleware in front of the REST app: the route answers JSON as always, and when the
caller asked for XML the body is rewritten before it leaves, by the mapping in
``protobench.xml_documents``.
"""

from __future__ import annotations

import orjson

from protobench.xml_documents import to_xml
from servers.asgi_runner import ASGIApp, Message, Receive, Scope, Send

XML_TYPES = ("application/xml", "text/xml")
JSON_TYPE = "application/json"
XML_CONTENT_TYPE = b"application/xml"


def prefers_xml(accept: str) -> bool:
    """Whether an Accept header ranks an XML type above JSON (q-values honoured; at equal
    weight JSON, the default, wins)."""
    best_xml = best_json = -1.0
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if media in XML_TYPES:
            best_xml = max(best_xml, weight)
        elif media in (JSON_TYPE, "application/*", "*/*"):
            best_json = max(best_json, weight)
    return best_xml > 0 and best_xml > best_json


def with_xml(app: ASGIApp) -> ASGIApp:
    """Answer in XML whoever asks for it; everyone else gets the app's answer untouched."""

    async def negotiated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
        if not accept or not prefers_xml(accept.decode("latin-1")):
            return await app(scope, receive, send)
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await _rewrite(send, start, b"".join(chunks))
            else:
                await send(message)

        await app(scope, receive, capture)
        return None

    return negotiated


async def _rewrite(send: Send, start: Message, body: bytes) -> None:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    if body and content_type.startswith(b"application/json"):
        document = orjson.loads(body)
        body = to_xml(document, error=start["status"] >= 400)
        headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
        headers.append((b"content-type", XML_CONTENT_TYPE))
    headers.append((b"content-length", b"%d" % len(body)))
    headers.append((b"vary", b"accept"))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body})
