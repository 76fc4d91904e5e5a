"""Request counters on the metrics side port: the format, the parsing, the endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from protobench.core.errors import CoreError
from protobench.core.service import InferenceService
from servers.listen import Listen
from servers.metrics import Scrape, metrics_url, render, scrape, start_metrics_server

SETOSA = [5.1, 3.5, 1.4, 0.2]


@pytest.fixture
def metrics_url_of_service(service: InferenceService) -> Iterator[str]:
    server = start_metrics_server(service, Listen("127.0.0.1", 0))
    yield metrics_url("127.0.0.1", server.server_address[1])
    server.shutdown()
    server.server_close()


def test_render_is_prometheus_text_that_parses_back(service: InferenceService) -> None:
    service.predict("iris", [SETOSA])
    service.predict("iris", [SETOSA])
    with pytest.raises(CoreError):
        service.predict("iris", [[1.0]])
    text = render(service)
    assert "# TYPE protobench_requests_total counter" in text
    assert 'protobench_requests_total{operation="predict",outcome="ok"} 2' in text
    assert 'protobench_replica_info{replica="test-replica"} 1' in text
    parsed = Scrape(text)
    assert parsed.ready
    assert parsed.requests == {("predict", "ok"): 2, ("predict", "error"): 1}
    assert parsed.predictions == 3


def test_endpoint_serves_live_counts(
    service: InferenceService, metrics_url_of_service: str
) -> None:
    assert scrape(metrics_url_of_service).predictions == 0
    service.predict("iris", [SETOSA])
    response = httpx.get(metrics_url_of_service)
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert Scrape(response.text).predictions == 1


def test_endpoint_serves_metrics_only(metrics_url_of_service: str) -> None:
    other = metrics_url_of_service.removesuffix("/metrics") + "/admin"
    assert httpx.get(other).status_code == 404
