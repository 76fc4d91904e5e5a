"""The SOAP service (and so its WSDL) has exactly the core's operations, named as the gRPC
service names them, and the served WSDL lists them."""

from __future__ import annotations

import asyncio

import httpx
from lxml import etree

from protobench.core.service import OPERATIONS, InferenceService
from servers.soap_server import InferenceSoapService, create_app

WSDL = "http://schemas.xmlsoap.org/wsdl/"


def _camel(name: str) -> str:
    return "".join(word.title() for word in name.split("_"))


def test_the_soap_service_has_every_core_operation_and_no_other() -> None:
    assert set(InferenceSoapService.public_methods) == {_camel(name) for name in OPERATIONS}


def test_the_served_wsdl_lists_them(service: InferenceService) -> None:
    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://soap.test") as http:
            return await http.get("/soap", params={"wsdl": ""})

    answer = asyncio.run(fetch())
    assert answer.status_code == 200
    document = etree.fromstring(answer.content)
    operations = {
        op.get("name") for op in document.iterfind(f"{{{WSDL}}}portType/{{{WSDL}}}operation")
    }
    assert operations == {_camel(name) for name in OPERATIONS}
