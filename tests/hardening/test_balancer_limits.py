"""nginx and HAProxy in front of the HTTP protocols hold the replicas' limits (issue 21.5): a
body over the replicas' limit is refused by the balancer before it is read (nginx spooled
100 MB to a temp file before), headers over the limit and slow headers are refused as the
replicas would, an unknown transfer coding is 400 (nginx said 501), and no version is named."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from protobench.protocol_spec import load
from protobench.protocols import Transport, spec, with_transport
from servers.balancers import BALANCERS
from servers.balancers.replica_limits import replica_limits
from servers.launcher import Cluster, launch
from tests.support.protocols import marker

HEADER_TIMEOUT_S = 1.5
COMBINATIONS = [(p, b) for p in with_transport(Transport.HTTP1) for b in ("nginx", "haproxy")]


@pytest.fixture(
    scope="module",
    params=[pytest.param(c, marks=marker(c[0]), id=f"{c[0]}-{c[1]}") for c in COMBINATIONS],
)
def cluster(
    request: pytest.FixtureRequest, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    protocol, balancer = request.param
    try:
        BALANCERS[balancer].check(protocol)
    except Exception as exc:  # the engine is not installed here
        pytest.skip(str(exc))
    workdir = tmp_path_factory.mktemp(f"limits-{protocol}-{balancer}")
    with pytest.MonkeyPatch.context() as env:  # the replicas and the balancer's config read it
        env.setenv("PROTOBENCH_HTTP_HEADER_TIMEOUT_S", str(HEADER_TIMEOUT_S))
        serve_args = ["--models-dir", str(models_dir)]
        with launch(
            protocol, replicas=1, balancer=balancer, serve_args=serve_args, workdir=workdir
        ) as running:
            yield running


def _exchange(cluster: Cluster, request: bytes) -> bytes:
    host, _, port = cluster.target.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        with contextlib.suppress(OSError):  # refused while sending: read what was answered
            sock.sendall(request)
        try:
            return sock.recv(65536)
        except OSError:
            return b""


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def _post(cluster: Cluster, headers: bytes, body: bytes = b"") -> bytes:
    path = load(spec(cluster.protocol).probe).path.encode()  # where it takes a JSON POST
    return (
        b"POST "
        + path
        + b" HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
        + (headers + b"\r\n" + body)
    )


def test_a_body_over_the_replicas_limit_is_refused_by_the_balancer(cluster: Cluster) -> None:
    started = time.monotonic()
    answer = _exchange(cluster, _post(cluster, b"content-length: 100000000\r\n", b"{" * 1000))
    assert _status(answer) == 413, answer
    assert b'"code":"TOO_LARGE"' in answer
    assert time.monotonic() - started < 5  # answered without reading 100 MB
    spooled = list(cluster.workdir.glob("nginx-client-body-temp/**/*"))
    assert not [p for p in spooled if p.is_file()]


def test_a_body_at_the_replicas_limit_reaches_the_replica(cluster: Cluster) -> None:
    limit = replica_limits(cluster.protocol).body_bytes
    body = b"{" + b" " * (limit - 2) + b"}"
    answer = _exchange(cluster, _post(cluster, b"content-length: %d\r\n" % len(body), body))
    # the replica's own answer to "{ }": a 4xx, or SOAP 1.1's idiom, a 500 carrying a Client Fault
    client_fault = _status(answer) == 500 and b":Client" in answer.partition(b"</faultcode>")[0]
    assert _status(answer) in (200, 400, 422) or client_fault, answer


def test_no_version_is_named(cluster: Cluster) -> None:
    answer = _exchange(cluster, _post(cluster, b"content-length: 2\r\n", b"{}")).lower()
    assert b"server: uvicorn" not in answer
    assert b"server: nginx/" not in answer


def test_headers_over_the_limit_are_refused(cluster: Cluster) -> None:
    big = b"x-big: " + b"a" * 40_000 + b"\r\n"
    answer = _exchange(cluster, _post(cluster, big + b"content-length: 2\r\n", b"{}"))
    assert _status(answer) == (431 if cluster.balancer == "nginx" else 400), answer


@pytest.mark.parametrize("coding", [b"xchunked", b"chunked, identity"])
def test_an_unknown_transfer_coding_is_400(cluster: Cluster, coding: bytes) -> None:
    answer = _exchange(cluster, _post(cluster, b"transfer-encoding: " + coding + b"\r\n"))
    assert _status(answer) == 400, answer


def test_slow_headers_are_cut_off(cluster: Cluster) -> None:
    started = time.monotonic()
    answer = _exchange(cluster, b"POST / HTTP/1.1\r\nhost: t\r\n")  # and nothing more
    assert _status(answer) in (408, 0), answer  # nginx closes without an answer
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 5
