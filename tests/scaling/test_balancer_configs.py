"""The generated balancer configs: accepted by the engines' own checkers, carrying the
settings that matter, and a clear error when an engine is missing or does not apply."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from protobench.commands.serve import BALANCER_NAMES
from protobench.protocols import Protocol
from servers.balancers import BALANCERS, Backend, BalancerError, get_balancer
from servers.balancers.base import fd_budget
from servers.balancers.haproxy import HAProxy
from servers.balancers.nginx import Nginx

BACKENDS = [Backend("replica-0", "127.0.0.1", 41001), Backend("replica-1", "127.0.0.1", 41002)]


def _write_config(balancer: Nginx | HAProxy, protocol: Protocol, workdir: Path) -> Path:
    path = workdir / f"{balancer.name}.conf"
    path.write_text(balancer.config(protocol, BACKENDS, "127.0.0.1", 48080, workdir))
    return path


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_nginx_accepts_its_config(protocol: Protocol, tmp_path: Path) -> None:
    nginx = Nginx()
    path = _write_config(nginx, protocol, tmp_path)
    command = nginx.command(nginx.binary(), path, tmp_path)
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_haproxy_accepts_its_config(protocol: Protocol, tmp_path: Path) -> None:
    haproxy = HAProxy()
    path = _write_config(haproxy, protocol, tmp_path)
    checked = subprocess.run(
        [haproxy.binary(), "-c", "-f", str(path)], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_nginx_http_config_keeps_upstream_connections(tmp_path: Path) -> None:
    config = Nginx().config("rest", BACKENDS, "127.0.0.1", 48080, tmp_path)
    for setting in (
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "keepalive_requests 1000000;",
        "server 127.0.0.1:41001",
        "server 127.0.0.1:41002",
    ):
        assert setting in config
    assert "http2" not in config.split("listen", 1)[1].split(";")[0]
    # idle upstream connections close before the replica closes them (5 s by default)
    upstream = config.split("upstream replicas", 1)[1].split("}", 1)[0]
    assert "keepalive_timeout 4000ms;" in upstream


def test_nginx_grpc_config_speaks_http2(tmp_path: Path) -> None:
    config = Nginx().config("grpc", BACKENDS, "127.0.0.1", 48080, tmp_path)
    assert "listen 127.0.0.1:48080 http2;" in config
    assert "grpc_pass grpc://replicas;" in config
    assert "proxy_pass" not in config


def test_haproxy_config_fits_the_descriptor_limit(tmp_path: Path) -> None:
    config = HAProxy().config("grpc", BACKENDS, "127.0.0.1", 48080, tmp_path)
    maxconn = int(config.split("maxconn", 1)[1].split()[0])
    assert 0 < 2 * maxconn < fd_budget()
    assert "bind 127.0.0.1:48080 proto h2" in config
    assert "server replica-0 127.0.0.1:41001" in config


def test_missing_engine_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(HAProxy, "program", "protobench-no-such-haproxy")
    with pytest.raises(BalancerError, match="apt-get install haproxy"):
        HAProxy().check("rest")


def test_client_balancer_is_for_grpc_only() -> None:
    client = get_balancer("client")
    with pytest.raises(BalancerError, match="cannot front rest"):
        client.check("rest")
    assert client.target("127.0.0.1", 0, BACKENDS) == "ipv4:127.0.0.1:41001,127.0.0.1:41002"


def test_unknown_balancer_lists_the_known_ones() -> None:
    with pytest.raises(BalancerError, match="reuseport, nginx, haproxy, client"):
        get_balancer("traefik")


def test_cli_offers_every_balancer() -> None:
    assert set(BALANCER_NAMES) == set(BALANCERS)
