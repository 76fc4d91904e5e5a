"""XML on REST: Accept: application/xml gets the same documents as XML, errors too; JSON
stays the default; RestClient(xml=True) reads them back to the same core types."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clients.base import ClientError
from clients.rest_client import RestClient
from protobench.core.errors import ErrorCode
from protobench.xml_documents import from_xml
from servers.rest_xml import prefers_xml
from tests.support.servers import RunningServer, running_server

pytestmark = pytest.mark.rest

SETOSA = [5.1, 3.5, 1.4, 0.2]


@pytest.fixture(scope="module")
def server(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server("rest", tmp_path_factory.mktemp("rest-xml"), models_dir) as running:
        yield running


@pytest.mark.parametrize(
    ("accept", "xml"),
    [
        ("application/xml", True),
        ("text/xml", True),
        ("application/json", False),
        ("*/*", False),
        ("application/xml;q=0.5, application/json", False),
        ("application/json;q=0.4, application/xml;q=0.9", True),
        ("application/xml;q=0", False),
    ],
)
def test_accept_is_negotiated_with_q_values(accept: str, xml: bool) -> None:
    assert prefers_xml(accept) is xml


def test_the_same_answer_as_xml(server: RunningServer) -> None:
    url = f"http://{server.target}/models/iris/predict"
    body = {"instances": [SETOSA], "version": "1"}
    as_json = httpx.post(url, json=body).json()
    answer = httpx.post(url, json=body, headers={"accept": "application/xml"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/xml"
    as_xml = from_xml(answer.content)
    assert as_xml["model"] == as_json["model"] and as_xml["version"] == as_json["version"]
    probabilities = [float(p) for p in as_xml["predictions"][0]["probabilities"]]
    assert probabilities == as_json["predictions"][0]["probabilities"]  # bit for bit


def test_errors_follow_the_accept_header(server: RunningServer) -> None:
    url = f"http://{server.target}/models/nope/predict"
    answer = httpx.post(url, json={"instances": [SETOSA]}, headers={"accept": "application/xml"})
    assert answer.status_code == 404
    assert answer.content.startswith(b"<?xml") and b"<error>" in answer.content
    assert from_xml(answer.content)["code"] == "NOT_FOUND"
    plain = httpx.post(url, json={"instances": [SETOSA]})
    assert plain.headers["content-type"] == "application/json"


def test_the_client_reads_xml_back_to_core_types(server: RunningServer) -> None:
    with RestClient(server.target, xml=True) as xml, RestClient(server.target) as json:
        assert xml.get_model("iris") == json.get_model("iris")
        assert xml.list_models() == json.list_models()
        answer = xml.predict("iris", [SETOSA], version="2")
        reference = json.predict("iris", [SETOSA], version="2")
        assert answer.predictions == reference.predictions
        assert xml.get_strategy("iris").strategy == json.get_strategy("iris").strategy
        with pytest.raises(ClientError) as failed:
            xml.predict("iris", [[1.0]])
        assert failed.value.code is ErrorCode.INVALID_INPUT
