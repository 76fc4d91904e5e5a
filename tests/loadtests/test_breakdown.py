"""Where one predict's CPU goes (``loadtests.breakdown``), as the demo's first step measures it
for every registered protocol: each spec's codec (``protobench.codec``) and real servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clients import connect
from loadtests.breakdown import CLIENT_STAGES, SERVER_STAGES, breakdown, codec, in_process
from protobench.codec import MODEL, ROW
from protobench.core.service import InferenceService
from protobench.protocols import EXTRA_SPECS_ENV, PROTOCOLS
from tests.support.servers import running_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_protocols_client_reads_back_what_its_adapter_encodes(
    service: InferenceService, protocol: str
) -> None:
    sides = codec(protocol)
    answer = service.predict(MODEL, [ROW], plain=sides.plain)
    expected = answer.response() if sides.plain else answer
    decoded = sides.client_decode(sides.server_encode(answer))
    assert decoded.predictions == expected.predictions
    assert (decoded.model, decoded.version, decoded.prediction_id) == (
        expected.model,
        expected.version,
        expected.prediction_id,
    )
    assert sides.client_encode([ROW])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_in_process_stages_of_every_protocol_are_measured(
    service: InferenceService, protocol: str
) -> None:
    stages = in_process(service, protocol)
    assert stages["model"] > 0 and stages["encode"] > 0
    assert stages["client_encode"] > 0 and stages["client_decode"] > 0


def test_a_spec_without_a_codec_is_named_not_measured() -> None:
    """A protocol from PROTOBENCH_PROTOCOL_SPECS may have no codec: the breakdown says so."""
    script = (
        "from loadtests.breakdown import NoCodecError, codec, has_codec\n"
        "assert not has_codec('codecless') and has_codec('rest')\n"
        "try:\n"
        "    codec('codecless')\n"
        "except NoCodecError as exc:\n"
        "    print(exc)\n"
    )
    env = {**os.environ, EXTRA_SPECS_ENV: "tests.loadtests.codecless_spec"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    assert "codecless: its spec names no codec (ProtocolSpec.codec)" in done.stdout


@pytest.mark.parametrize("protocol", ["rest", "oip-rest", "thrift", "mqtt"])
def test_a_real_server_breakdown_adds_up(
    service: InferenceService, models_dir: Path, tmp_path: Path, protocol: str
) -> None:
    """Over HTTP (OIP REST's floor its one readiness call), raw TCP and a broker (MQTT's
    embedded one, in the server's process)."""
    with (
        running_server(protocol, tmp_path, models_dir) as server,
        connect(protocol, server.target) as client,
    ):
        measured = breakdown(protocol, client, [server.process.pid], service, calls=50)
    assert set(measured["server"]) == {*SERVER_STAGES, "total"}
    assert set(measured["client"]) == {*CLIENT_STAGES, "total"}
    assert measured["server"]["floor"] > 0 and measured["client"]["floor"] > 0
    assert measured["server"]["total"] > 0 and measured["client"]["total"] > 0
    assert sum(measured["server"][s] for s in SERVER_STAGES) >= measured["server"]["total"] * 0.99
