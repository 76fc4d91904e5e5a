"""JSON documents as XML and back: the mapping REST's ``Accept: application/xml`` answers use.

Fixed and reversible: the document is ``<response>`` (``<error>`` for an error), an object's
keys are child elements in order, a list's items are ``<item>`` children of the list's
element, an empty list or object is marked (``<versions list="empty"/>``,
``<details object="empty"/>``), ``true``/``false`` and numbers are written as JSON writes
them, ``null`` is an empty element with ``nil="true"``.
``{"label": "setosa", "probabilities": [0.9, 0.1]}`` is ``<response><label>setosa</label>
<probabilities><item>0.9</item><item>0.1</item></probabilities></response>``. Reading back
gives strings for scalars; the core types' validation turns them into numbers and booleans.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from lxml import etree

ITEM = "item"
# Characters XML 1.0 cannot carry at all (a caller's model name may hold them): written as U+FFFD.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _fill(element: Any, value: Any) -> None:
    if isinstance(value, dict):
        if not value:
            element.set("object", "empty")
        for key, item in value.items():
            try:
                child = etree.SubElement(element, str(key))
            except ValueError:  # a key that is no XML name
                child = etree.SubElement(element, "entry", key=_NOT_XML.sub("\ufffd", str(key)))
            _fill(child, item)
    elif isinstance(value, list):
        if not value:
            element.set("list", "empty")
        for item in value:
            _fill(etree.SubElement(element, ITEM), item)
    elif value is None:
        element.set("nil", "true")
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, float):
        element.text = orjson.dumps(value).decode()  # the shortest round-tripping form
    else:
        element.text = _NOT_XML.sub("\ufffd", str(value))


def to_xml(document: Any, *, error: bool = False) -> bytes:
    """A JSON document (parsed) as the XML described above."""
    root = etree.Element("error" if error else "response")
    _fill(root, document)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return data


def _read(element: Any) -> Any:
    children = list(element)
    if not children:
        if element.get("nil") == "true":
            return None
        if element.get("list") == "empty":
            return []
        if element.get("object") == "empty":
            return {}
        return element.text or ""
    if all(child.tag == ITEM for child in children):
        return [_read(child) for child in children]
    return {child.get("key", child.tag): _read(child) for child in children}


def from_xml(data: bytes) -> Any:
    """The document ``to_xml`` wrote, scalars as strings."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return _read(etree.fromstring(data, parser=parser))
