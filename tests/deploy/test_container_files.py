"""deploy/Dockerfile and deploy/compose.yaml, checked statically: the Dockerfile's stages and
files are consistent, and every compose service runs a command that exists."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from protobench.cli import build_parser
from protobench.protocols import DEFAULT_PORTS, PROTOCOLS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def _instructions() -> list[tuple[str, str]]:
    parsed = DockerfileParser(str(DEPLOY / "Dockerfile"))
    return [
        (i["instruction"], i["value"]) for i in parsed.structure if i["instruction"] != "COMMENT"
    ]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction, value in _instructions():
        if instruction == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction, value))
    return stages


def _parses(argv: list[str]) -> None:
    """Fails the test if `protobench` would reject these arguments."""
    try:
        build_parser().parse_args(argv)
    except SystemExit as exit_:
        pytest.fail(f"`protobench {shlex.join(argv)}` is rejected ({exit_.code})")


def test_dockerfile_is_multi_stage_and_copies_only_what_exists() -> None:
    stages = _stages()
    names = [re.search(r"\bAS (\w+)", v, re.I)[1] for v in (s[0][1] for s in stages)]  # type: ignore[index]
    assert names == ["build", "runtime"]
    for instruction, value in _instructions():
        if instruction != "COPY":
            continue
        parts = value.split()
        if parts[0].startswith("--from="):
            assert parts[0].removeprefix("--from=") in names[:-1]
            continue
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"


def test_runtime_is_non_root_with_a_healthcheck_and_our_entrypoint() -> None:
    runtime = dict(_stages()[-1])
    assert runtime["USER"] not in ("root", "0")
    assert "healthcheck.sh" in runtime["HEALTHCHECK"]
    entrypoint = DEPLOY / "entrypoint.sh"
    assert str(entrypoint.name) in runtime["ENTRYPOINT"] and os.access(entrypoint, os.X_OK)
    assert os.access(DEPLOY / "healthcheck.sh", os.X_OK)
    assert "PROTOBENCH_MODELS_DIR=/opt/models" in runtime["ENV"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_entrypoint_and_healthcheck_run_real_commands(protocol: str) -> None:
    """The scripts' protobench command lines, with their variables filled in, parse."""
    env = {"PROTOBENCH_PROTOCOL": protocol, "PROTOBENCH_PORT": str(DEFAULT_PORTS[protocol])}
    for script in ("entrypoint.sh", "healthcheck.sh"):
        text = (DEPLOY / script).read_text().replace("\\\n", " ")
        [line] = [ln for ln in text.splitlines() if ln.strip().startswith("exec protobench")]
        line = line.split(">")[0].replace('"$@"', "")
        line = re.sub(r"\$\{(\w+):\+([^}]*)\}", lambda m: m[2] if m[1] in env else "", line)
        line = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m[1], m[2]), line)
        line = re.sub(r"\$(\w+)", lambda m: env[m[1]], line)
        _parses(shlex.split(line)[2:])


def test_compose_has_a_server_per_protocol_and_replicas_behind_nginx() -> None:
    protocols = {
        s["environment"]["PROTOBENCH_PROTOCOL"]: name
        for name, s in SERVICES.items()
        if "environment" in s and "command" not in s
    }
    assert set(protocols) == set(PROTOCOLS)
    assert SERVICES["rest-replica"]["deploy"]["replicas"] > 1
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert re.search(r"server rest-replica:8000;", nginx)
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{name}: {source} is missing"
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES
        check = service.get("healthcheck", {}).get("test", [])
        if check[:2] == ["CMD", "protobench"]:
            _parses(check[2:])


def test_compose_generator_services_run_real_protobench_commands() -> None:
    generators = {n: s for n, s in SERVICES.items() if s.get("entrypoint") == ["protobench"]}
    assert {s["command"][0] for s in generators.values()} == {"bench", "worker"}
    for service in generators.values():
        _parses(service["command"])
    bench = next(s for s in generators.values() if s["command"][0] == "bench")
    workers = next(s for s in generators.values() if s["command"][0] == "worker")
    remote = bench["command"][bench["command"].index("--remote-workers") + 1]
    assert int(remote) == workers["deploy"]["replicas"]
    target = bench["command"][bench["command"].index("--target") + 1]
    assert target.split(":")[0] in SERVICES


def test_prometheus_scrapes_services_that_exist() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    hosts = [t.split(":")[0] for job in config["scrape_configs"]
             for group in job.get("static_configs", []) for t in group["targets"]]  # fmt: skip
    hosts += [n for job in config["scrape_configs"] for sd in job.get("dns_sd_configs", [])
              for n in sd["names"]]  # fmt: skip
    assert hosts and all(host in SERVICES for host in hosts)
