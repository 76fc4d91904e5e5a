"""deploy/k8s: every manifest passes `kubernetes-validate --strict`, both kustomizations build,
and the manifests say what docs/deploy.md promises (probes, limits, headless gRPC, HPA) for
every protocol in the registry: registering one without its manifests fails here."""

from __future__ import annotations

import copy
import functools
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import validate

from protobench.protocols import DEFAULT_PORTS, PROTOCOLS, SPECS, Transport

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
MANIFESTS = sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")
VALIDATOR = str(Path(sys.executable).with_name("kubernetes-validate"))
K8S_VERSION = "1.30"  # the oldest release the manifests must still suit (gRPC probes are GA)
KNATIVE = "serving.knative.dev/v1"
# Knative routes HTTP only; its port name tells its proxy which HTTP to speak to the pod.
KNATIVE_PORT_NAMES = {Transport.HTTP1: "http1", Transport.H2C: "h2c"}
ON_KNATIVE = tuple(p for p in PROTOCOLS if SPECS[p].transport in KNATIVE_PORT_NAMES)
NOT_ON_KNATIVE = tuple(p for p in PROTOCOLS if p not in ON_KNATIVE)
BROKERS = tuple(f"{p}-broker" for p in PROTOCOLS if SPECS[p].transport is Transport.BROKER)
# A Knative revision spec is a pod spec plus these fields of Knative's own.
KNATIVE_REVISION_FIELDS = ("timeoutSeconds", "containerConcurrency", "idleTimeoutSeconds")


@functools.cache
def _parsed(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _documents(path: Path) -> list[dict[str, Any]]:
    """A fresh copy each time (tests change them); the parse itself happens once per file."""
    return copy.deepcopy(_parsed(path))


def _all(kind: str, folder: Path = K8S / "base") -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(folder.glob("*.yaml")):
        for doc in _documents(path):
            if doc["kind"] == kind and doc["apiVersion"] != KNATIVE:
                found[doc["metadata"]["name"]] = doc
    return found


def _run_validator(*paths: Path) -> subprocess.CompletedProcess[str]:
    command = [VALIDATOR, "--strict", "-k", K8S_VERSION, *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_every_manifest_passes_strict_validation() -> None:
    result = _run_validator(*MANIFESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = result.stdout.count(" passed for resource ")
    kubernetes_kinds = sum(
        1 for p in MANIFESTS for d in _documents(p) if d["apiVersion"] != KNATIVE
    )
    assert passed == kubernetes_kinds > 0  # not one Kubernetes resource went unchecked


def test_the_validator_rejects_an_unknown_field(tmp_path: Path) -> None:
    deployment = _all("Deployment")["protobench-rest"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(deployment))
    assert _run_validator(bad).returncode != 0


def test_knative_containers_are_valid_pod_containers() -> None:
    """Knative Services are a CRD the validator has no schema for; their pod template is a
    core/v1 pod spec, so it is checked as one, with the probe port Knative fills in."""
    services = [
        d for d in _documents(K8S / "scale-to-zero" / "knative-services.yaml")
        if d["apiVersion"] == KNATIVE
    ]  # fmt: skip
    protocols = [s["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"]
                 for s in services]  # fmt: skip
    assert sorted(protocols) == sorted(ON_KNATIVE)
    for protocol, service in zip(protocols, services, strict=True):
        template = service["spec"]["template"]
        assert template["metadata"]["annotations"]["autoscaling.knative.dev/min-scale"] == "0"
        container = template["spec"]["containers"][0]
        [port] = container["ports"]
        assert port == {
            "name": KNATIVE_PORT_NAMES[SPECS[protocol].transport],
            "containerPort": DEFAULT_PORTS[protocol],
        }
        for action in container["readinessProbe"].values():
            if isinstance(action, dict):
                action.setdefault("port", container["ports"][0]["containerPort"])
        spec = {k: v for k, v in template["spec"].items() if k not in KNATIVE_REVISION_FIELDS}
        validate({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": spec},
                 K8S_VERSION, strict=True)  # fmt: skip


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) is not installed")
@pytest.mark.parametrize("variant", ["base", "scale-to-zero"])
def test_kustomization_builds_and_validates(variant: str, tmp_path: Path) -> None:
    built = subprocess.run(["kubectl", "kustomize", str(K8S / variant)], capture_output=True,
                           text=True, timeout=60, check=True).stdout  # fmt: skip
    kinds = sorted(f"{d['apiVersion']} {d['kind']}" for d in yaml.safe_load_all(built) if d)
    if variant == "base":
        assert kinds.count("apps/v1 Deployment") == len(PROTOCOLS) + len(BROKERS)
        assert kinds.count("autoscaling/v2 HorizontalPodAutoscaler") == len(PROTOCOLS)
    else:  # Knative Services replace the HTTP ones; the others keep base's three resources
        assert kinds.count(f"{KNATIVE} Service") == len(ON_KNATIVE)
        assert kinds.count("apps/v1 Deployment") == len(NOT_ON_KNATIVE) + len(BROKERS)
        assert kinds.count("autoscaling/v2 HorizontalPodAutoscaler") == len(NOT_ON_KNATIVE)
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(built)
    result = _run_validator(rendered)
    assert result.returncode == 0, result.stdout


def test_every_registered_protocol_has_its_manifests() -> None:
    """A protocol added to the registry needs its file in base (and in the kustomization), a
    Knative Service if it is HTTP, and otherwise a place in the overlay's exclusions."""
    resources = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())["resources"]
    missing = [p for p in PROTOCOLS if f"{p}.yaml" not in resources]
    assert not missing, f"deploy/k8s/base has no manifest for {missing} (see docs/deploy.md)"
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler"):
        assert {f"protobench-{p}" for p in PROTOCOLS} <= set(_all(kind)), kind
    h2c = [p for p in PROTOCOLS if SPECS[p].transport is Transport.H2C]
    assert {f"protobench-{p}-headless" for p in h2c} <= set(_all("Service"))
    overlay = (K8S / "scale-to-zero" / "kustomization.yaml").read_text()
    kept = {
        tuple(sorted(m.split(","))) for m in re.findall(r"component notin \(([^)]*)\)", overlay)
    }
    expected = {tuple(sorted((*NOT_ON_KNATIVE, *BROKERS)))}
    assert kept == expected, "the overlay must keep the non-HTTP protocols and their brokers"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_each_protocol_has_limits_and_probes_on_its_health(protocol: str) -> None:
    deployment = _all("Deployment")[f"protobench-{protocol}"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert {"name": "PROTOBENCH_PROTOCOL", "value": protocol} in container["env"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert set(container["resources"]) == {"requests", "limits"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["metrics"] == 9100
    for probe in (container["readinessProbe"], container["livenessProbe"]):
        (kind,) = set(probe) & {"httpGet", "grpc", "tcpSocket", "exec"}
        if kind == "exec":  # a protobench command line
            assert probe[kind]["command"][:3] == ["protobench", "models", "--protocol"]
            continue
        port = probe[kind]["port"]
        assert port in ports or port in ports.values()
    if SPECS[protocol].transport is Transport.H2C:  # Kubernetes' probe speaks grpc.health.v1
        assert container["readinessProbe"]["grpc"]["port"] == DEFAULT_PORTS[protocol]
    if protocol == "rest":
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    service = _all("Service")[f"protobench-{protocol}"]
    if SPECS[protocol].transport is Transport.BROKER:
        # the protocol's Service is its broker; the adapters connect to it and listen on nothing
        broker = _all("Deployment")[f"protobench-{protocol}-broker"]
        broker_ports = [p["containerPort"] for p in broker["spec"]["template"]["spec"]
                        ["containers"][0]["ports"]]  # fmt: skip
        assert service["spec"]["selector"] == broker["spec"]["selector"]["matchLabels"]
        assert broker_ports == [DEFAULT_PORTS[protocol]]
        address = f"protobench-{protocol}:{DEFAULT_PORTS[protocol]}"
        assert any(address in str(e.get("value")) for e in container["env"])
    else:
        assert DEFAULT_PORTS[protocol] in ports.values()
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    hpa = _all("HorizontalPodAutoscaler")[f"protobench-{protocol}"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]


@pytest.mark.parametrize("protocol", [p for p in PROTOCOLS if SPECS[p].transport is Transport.H2C])
def test_grpc_has_a_headless_service_for_client_side_balancing(protocol: str) -> None:
    headless = _all("Service")[f"protobench-{protocol}-headless"]
    assert headless["spec"]["clusterIP"] == "None"
    plain = _all("Service")[f"protobench-{protocol}"]
    assert headless["spec"]["selector"] == plain["spec"]["selector"]
