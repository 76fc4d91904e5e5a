"""deploy/k8s: every manifest passes `kubernetes-validate --strict`, both kustomizations build,
and the manifests say what docs/deploy.md promises (probes, limits, headless gRPC, HPA)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import validate

from protobench.protocols import DEFAULT_PORTS

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
MANIFESTS = sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")
VALIDATOR = str(Path(sys.executable).with_name("kubernetes-validate"))
K8S_VERSION = "1.30"  # the oldest release the manifests must still suit (gRPC probes are GA)
KNATIVE = "serving.knative.dev/v1"
SERVING = ("rest", "grpc", "graphql", "jsonrpc")
# A Knative revision spec is a pod spec plus these fields of Knative's own.
KNATIVE_REVISION_FIELDS = ("timeoutSeconds", "containerConcurrency", "idleTimeoutSeconds")


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


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
    assert sorted(s["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"]
                  for s in services) == sorted(SERVING)  # fmt: skip
    for service in services:
        template = service["spec"]["template"]
        assert template["metadata"]["annotations"]["autoscaling.knative.dev/min-scale"] == "0"
        container = template["spec"]["containers"][0]
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
        assert kinds.count("apps/v1 Deployment") == len(SERVING)
        assert kinds.count("autoscaling/v2 HorizontalPodAutoscaler") == len(SERVING)
    else:  # the overlay leaves only the Knative Services: no Deployment, HPA or plain Service
        assert kinds == [f"{KNATIVE} Service"] * len(SERVING)
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(built)
    result = _run_validator(rendered)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("protocol", SERVING)
def test_each_protocol_has_limits_and_probes_on_its_health(protocol: str) -> None:
    deployment = _all("Deployment")[f"protobench-{protocol}"]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert {"name": "PROTOBENCH_PROTOCOL", "value": protocol} in container["env"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert set(container["resources"]) == {"requests", "limits"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert DEFAULT_PORTS[protocol] in ports.values() and ports["metrics"] == 9100
    for probe in (container["readinessProbe"], container["livenessProbe"]):
        (kind,) = set(probe) & {"httpGet", "grpc", "tcpSocket"}
        port = probe[kind]["port"]
        assert port in ports or port in ports.values()
    if protocol == "grpc":
        assert container["readinessProbe"]["grpc"]["port"] == DEFAULT_PORTS["grpc"]
    if protocol == "rest":
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    service = _all("Service")[f"protobench-{protocol}"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    hpa = _all("HorizontalPodAutoscaler")[f"protobench-{protocol}"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]


def test_grpc_has_a_headless_service_for_client_side_balancing() -> None:
    headless = _all("Service")["protobench-grpc-headless"]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["selector"] == _all("Service")["protobench-grpc"]["spec"]["selector"]
