"""The cells of a benchmark matrix and the configuration they come from."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

from loadtests.distributed import Distribution
from loadtests.remote import RemoteTargets
from loadtests.workload import Payload
from protobench.protocols import PROTOCOLS, Protocol, spec


@dataclass(frozen=True)
class BenchConfig:
    protocols: tuple[Protocol, ...] = PROTOCOLS
    replicas: tuple[int, ...] = (1,)
    balancer: str = "reuseport"
    users: tuple[int, ...] = (16,)
    rates: tuple[float, ...] = ()  # non-empty: open model at these total request rates
    batches: tuple[int, ...] = (1,)
    payload: Payload = "iris"
    duration_s: float = 10.0
    warmup_s: float = 3.0
    repeat: int = 1
    model_delay_ms: float = 0.0
    model_workers: int = 0  # the capacity-limited model (protobench.core.capacity)
    model_service_ms: float = 0.0
    model_cpu_ms: float = 0.0
    replica_cpus: float | None = None  # a CPU quota per replica (servers.cpu_quota)
    generator_processes: int = 0  # 0: decide from the free cores
    pin: bool = True
    calibration_calls: int = 50
    stall: tuple[float, float] | None = None  # pause the replicas at (s into window, for s)
    drivers: tuple[str, ...] = ("locust",)  # "native": wrk / h2load (loadtests/native.py)
    remote: RemoteTargets | None = None  # servers bench does not start (--target)
    distribution: Distribution | None = None  # Locust master + workers (--generator-workers)
    cold_starts: int = 0  # time this many starts per protocol and condition (loadtests.coldstart)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def open_model(self) -> bool:
        return bool(self.rates)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def server_model(self) -> dict[str, float]:
        """How the replicas' model behaves, as recorded beside every cell."""
        return {
            "model_delay_ms": self.model_delay_ms,
            "model_workers": self.model_workers,
            "model_service_ms": self.model_service_ms,
            "model_cpu_ms": self.model_cpu_ms,
        }

    def serve_args(self) -> list[str]:
        """The replicas' model options (the ones set)."""
        return [
            item
            for name, value in self.server_model().items()
            if value
            for item in ("--" + name.replace("_", "-"), f"{value:g}")
        ]


@dataclass(frozen=True)
class Cell:
    protocol: Protocol
    replicas: int
    balancer: str
    users: int
    rate: float | None
    batch: int
    payload: Payload
    repeat: int
    driver: str = "locust"

    @property
    def cell_id(self) -> str:
        load = f"r{self.rate:g}" if self.rate is not None else f"u{self.users}"
        driver = "" if self.driver == "locust" else f"-{self.driver}"
        return (
            f"{self.protocol}-x{self.replicas}-{self.balancer}-{load}-b{self.batch}"
            f"-{self.payload}{driver}-{self.repeat}"
        )

    @property
    def label(self) -> str:
        load = f"{self.rate:g} req/s" if self.rate is not None else f"{self.users} users"
        return (
            f"{self.protocol} ×{self.replicas} ({self.balancer}) · {load} · batch {self.batch}"
            + (f" · {self.driver}" if self.driver != "locust" else "")
            + (f" · repeat {self.repeat + 1}" if self.repeat else "")
        )


def balancer_for(protocol: Protocol, replicas: int, balancer: str) -> str:
    """One replica needs no balancer; a protocol that cannot use ``balancer`` (`client`
    round-robin exists for gRPC only) falls back to reuseport."""
    if replicas == 1:
        return "none"
    if balancer not in spec(protocol).supported_balancers:
        return "reuseport"
    return balancer


def cells(config: BenchConfig) -> list[Cell]:
    """Repeats are the outer loop so a slow drift of the machine spreads over every cell."""
    loads: list[tuple[int, float | None]] = (
        [(max(config.users), rate) for rate in config.rates]
        if config.open_model
        else [(users, None) for users in config.users]
    )
    out = []
    for repeat, protocol, replicas, (users, rate), batch, driver in itertools.product(
        range(config.repeat), config.protocols, config.replicas, loads, config.batches,
        config.drivers,
    ):  # fmt: skip
        balancer = balancer_for(protocol, replicas, config.balancer)
        out.append(Cell(protocol, replicas, balancer, users, rate, batch, config.payload, repeat,
                        driver))  # fmt: skip
    return out
