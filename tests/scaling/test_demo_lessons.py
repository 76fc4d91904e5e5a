"""The demo's scaling lessons: nginx when installed, else HAProxy, else reuseport (nothing to
install), said on screen; every lesson is a valid bench command on the capacity-limited model."""

from __future__ import annotations

import pytest

from protobench.cli import build_parser
from protobench.commands.demo_scaling import l7_balancer, lessons
from servers.balancers import get_balancer
from servers.balancers.haproxy import HAProxy
from servers.balancers.nginx import Nginx


def _balancers(argv: list[str]) -> str:
    return argv[argv.index("--balancer") + 1]


def test_every_lesson_is_a_bench_command_on_the_100_per_s_model() -> None:
    planned, _ = lessons(duration=4, warmup=1)
    for lesson in planned:
        args = build_parser().parse_args(["bench", *lesson.arguments])
        assert (args.model_workers, args.model_service_ms) == (1, 10.0)
        balancer = get_balancer(_balancers(lesson.arguments))
        assert set(args.protocols) <= set(balancer.protocols), lesson.title
    grpc = [lesson for lesson in planned if lesson.arguments[1] == "grpc"]
    assert {_balancers(lesson.arguments) for lesson in grpc} >= {"reuseport", "client"}


def test_without_any_balancer_installed_the_demo_uses_reuseport_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Nginx, "program", "protobench-no-such-nginx")
    monkeypatch.setattr(HAProxy, "program", "protobench-no-such-haproxy")
    name, why = l7_balancer()
    assert name == "reuseport" and "nothing to install" in why
    planned, _ = lessons(duration=4, warmup=1)
    used = {_balancers(lesson.arguments) for lesson in planned}
    assert "nginx" not in used and "haproxy" not in used
