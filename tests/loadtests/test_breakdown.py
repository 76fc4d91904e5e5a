"""Where one predict's CPU goes (``loadtests.breakdown``), as the demo's first step measures it
for every registered protocol."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients import connect
from loadtests.breakdown import CLIENT_STAGES, SERVER_STAGES, breakdown, in_process, supports
from protobench.core.service import InferenceService
from protobench.protocols import PROTOCOLS
from tests.support.servers import running_server


@pytest.mark.parametrize("protocol", [p for p in PROTOCOLS if supports(p)])
def test_the_in_process_stages_of_every_supported_protocol_are_measured(
    service: InferenceService, protocol: str
) -> None:
    stages = in_process(service, protocol)
    assert stages["model"] > 0 and stages["encode"] > 0
    assert stages["client_encode"] > 0 and stages["client_decode"] > 0


def test_the_demo_measures_only_what_it_can_and_a_real_server_adds_up(
    service: InferenceService, models_dir: Path, tmp_path: Path
) -> None:
    assert [p for p in PROTOCOLS if supports(p)], "no protocol has a breakdown"
    with (
        running_server("rest", tmp_path, models_dir) as server,
        connect("rest", server.target) as client,
    ):
        measured = breakdown("rest", client, [server.process.pid], service, calls=50)
    assert set(measured["server"]) == {*SERVER_STAGES, "total"}
    assert set(measured["client"]) == {*CLIENT_STAGES, "total"}
    assert measured["server"]["total"] > 0 and measured["client"]["total"] > 0
    assert sum(measured["server"][s] for s in SERVER_STAGES) >= measured["server"]["total"] * 0.99
