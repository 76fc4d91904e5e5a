"""The demo's scaling lessons (issue 15), each a short bench run on the capacity-limited model.

Every replica serves one prediction at a time, each holding it 10 ms without burning CPU:
100 predictions/s per replica, whatever the machine, so N replicas on a 2-core box really
bring N × 100/s and the generator keeps its headroom.

1. 1, 2 and 4 replicas behind an L7 balancer, 32 closed-loop users: throughput ≈ N × 100/s.
2. An open-model rate sweep on 1 and 2 replicas: the knee (where latency takes off) moves
   right with N.
3. gRPC with one user (one channel, one HTTP/2 connection) on 2 replicas: behind the kernel's
   L4 ``reuseport`` it sticks to one replica; behind an L7 proxy or the client's round_robin
   it spreads.

The L7 balancer is nginx when installed, else HAProxy, else the one that needs nothing
installed: ``reuseport`` (the kernel spreads the users' connections, L4), said on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from protobench.protocols import PROTOCOLS
from servers.balancers import BalancerError, get_balancer

MODEL = ["--model-workers", "1", "--model-service-ms", "10"]  # 100 predictions/s per replica
SCALING_REPLICAS = "1,2,4"
SCALING_USERS = "32"
KNEE_REPLICAS = "1,2"
KNEE_RATES = "75,150"  # within one replica's 100/s; beyond one's, within two's 200/s
GRPC_LESSON_BALANCERS = ("reuseport", "nginx", "client")


@dataclass(frozen=True)
class Lesson:
    title: str
    arguments: list[str]


def l7_balancer() -> tuple[str, str]:
    """The balancer to use and a sentence saying why."""
    for name in ("nginx", "haproxy"):
        try:
            get_balancer(name).check("rest")
        except BalancerError:
            continue
        return name, f"{name} (L7: spreads every request round-robin)"
    return "reuseport", (
        "reuseport: neither nginx nor haproxy is installed, so the kernel spreads the users' "
        "connections (L4, nothing to install; `make system-deps` adds nginx)"
    )


def lessons(duration: float, warmup: float) -> tuple[list[Lesson], str]:
    balancer, why = l7_balancer()
    carried = [p for p in PROTOCOLS if p in get_balancer(balancer).protocols]
    if left_out := [p for p in PROTOCOLS if p not in carried]:
        why += f"; {balancer} does not carry {', '.join(left_out)}, left out of these lessons"
    timing = ["--duration", f"{duration:g}", "--warmup", f"{warmup:g}"]
    everyone = ["--protocols", ",".join(carried), *MODEL, *timing]
    out = [
        Lesson(
            f"1, 2 and 4 replicas of a 100/s model behind {balancer}: throughput ≈ N × 100/s",
            [*everyone, "--replicas", SCALING_REPLICAS, "--balancer", balancer,
             "--users", SCALING_USERS],
        ),
        Lesson(
            f"open-model sweep ({KNEE_RATES} req/s) on 1 and 2 replicas: the knee moves right",
            [*everyone, "--replicas", KNEE_REPLICAS, "--balancer", balancer,
             "--rate", KNEE_RATES, "--connections", SCALING_USERS],
        ),
    ]  # fmt: skip
    for lesson_balancer in GRPC_LESSON_BALANCERS:
        if lesson_balancer == "nginx" and balancer != "nginx":
            continue  # nginx missing: the client's round_robin still shows the L7 side
        grpc_lesson = ["--protocols", "grpc", *MODEL, *timing, "--replicas", "2",
                       "--balancer", lesson_balancer, "--users", "1"]  # fmt: skip
        out.append(Lesson(f"gRPC, one channel, 2 replicas behind {lesson_balancer}", grpc_lesson))
    return out, why


def run_lessons(
    bench: Callable[[list[str]], int],
    out: Path,
    console: Console,
    duration: float,
    warmup: float,
) -> tuple[int, list[Path]]:
    """Run each lesson's bench into ``out``; the exit code and every run's results.json."""
    planned, why = lessons(duration, warmup)
    console.print(f"balancer: {why}")
    before = set(out.glob("*/results.json"))
    for lesson in planned:
        console.print(f"[bold]{lesson.title}")
        code = bench([*lesson.arguments, "--out", str(out)])
        if code != 0:
            return code, []
    return 0, sorted(set(out.glob("*/results.json")) - before)
