"""The SOAP adapter's own promises: a plain zeep client works from the served WSDL alone,
Faults are SOAP 1.1's (HTTP 500, Client or Server, our code in the detail), and requests that
are not SOAP get a Fault, never a bare error page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import zeep
import zeep.exceptions

from tests.support.servers import RunningServer, running_server

pytestmark = pytest.mark.soap

ENVELOPE = "http://schemas.xmlsoap.org/soap/envelope/"
SETOSA = [5.1, 3.5, 1.4, 0.2]


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server("soap", tmp_path_factory.mktemp("soap"), models_dir) as running:
        yield running


def test_zeep_calls_it_from_the_wsdl_alone(server: RunningServer) -> None:
    client = zeep.Client(f"http://{server.target}/soap?wsdl")
    answer = client.service.Predict(model="iris", instances=[{"features": SETOSA}])
    assert answer.model == "iris"
    assert answer.predictions[0].label == "setosa"
    assert len(answer.predictions[0].probabilities) == 3
    with pytest.raises(zeep.exceptions.Fault) as fault:
        client.service.GetModel(name="nope")
    assert fault.value.code.endswith(":Client")
    assert fault.value.detail.findtext("code") == "NOT_FOUND"


def _post(server: RunningServer, body: bytes) -> httpx.Response:
    headers = {"content-type": "text/xml; charset=utf-8", "soapaction": '"Predict"'}
    return httpx.post(f"http://{server.target}/soap", content=body, headers=headers, timeout=30)


@pytest.mark.parametrize(
    "body",
    [b"<not xml", b"<a/>", b"\xff\xfe garbage", b""],
    ids=["broken-xml", "not-an-envelope", "bytes", "empty"],
)
def test_what_is_not_soap_gets_a_client_fault(server: RunningServer, body: bytes) -> None:
    answer = _post(server, body)
    assert answer.status_code == 500  # SOAP 1.1 answers every Fault with 500
    assert f"{{{ENVELOPE}}}" in answer.text or "soap" in answer.text.lower()
    assert ":Client" in answer.text and "Traceback" not in answer.text


def test_a_nan_feature_is_the_callers_fault(server: RunningServer) -> None:
    envelope = (
        f'<soap:Envelope xmlns:soap="{ENVELOPE}" xmlns:p="urn:protobench:v1"><soap:Body>'
        "<p:Predict><p:model>iris</p:model><p:instances>"
        + "".join("<p:features>NaN</p:features>" for _ in range(4))
        + "</p:instances></p:Predict></soap:Body></soap:Envelope>"
    ).encode()
    answer = _post(server, envelope)
    assert answer.status_code == 500 and ":Client" in answer.text


def test_other_paths_are_not_found(server: RunningServer) -> None:
    assert httpx.get(f"http://{server.target}/", timeout=30).status_code == 404
