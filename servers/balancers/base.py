"""What every balancer offers the launcher, and the shared plumbing of the proxy ones.

A balancer is an existing engine (the kernel, nginx, HAProxy, gRPC's own client policy); the
code here only writes its configuration and starts it. ``config()`` is a pure function of the
backends, so the same text can be mounted into a container later.
"""

from __future__ import annotations

import resource
import shutil
import signal
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from protobench.protocols import Protocol, spec, specs

FD_CAP = 65536  # more descriptors than a loopback benchmark ever needs
FD_RESERVE = 256  # listeners, logs, config and temp files


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class Backend:
    """One replica as a balancer sees it."""

    name: str
    host: str
    port: int

    @property
    def address(self) -> str:
        return host_port(self.host, self.port)


class BalancerError(RuntimeError):
    """The balancer cannot run here (missing program, protocol it cannot carry, bad config)."""


class Balancer(ABC):
    name: ClassVar[str]
    layer: ClassVar[str]  # what it spreads: "L4 (connections)" or "L7 (requests)"
    summary: ClassVar[str]
    shares_port: ClassVar[bool] = False  # True: the replicas bind the public port themselves
    listens: ClassVar[bool] = True  # False: no public port; the target lists the replicas

    @property
    def protocols(self) -> tuple[Protocol, ...]:
        """The protocols whose spec lists this balancer."""
        return tuple(s.name for s in specs() if self.name in s.supported_balancers)

    def check(self, protocol: Protocol) -> None:
        """Fail early, with a reason, when this balancer cannot front ``protocol``."""
        if self.name not in spec(protocol).supported_balancers:
            raise BalancerError(
                f"the {self.name} balancer cannot front {protocol}; it works for "
                + ", ".join(self.protocols)
            )

    def target(self, host: str, port: int, backends: Sequence[Backend]) -> str:
        """What a client passes to ``clients.connect``."""
        return host_port(host, port)

    def start(
        self, protocol: Protocol, backends: Sequence[Backend], host: str, port: int, workdir: Path
    ) -> subprocess.Popen[bytes] | None:
        """Start the balancer process, if the balancer is one (the caller waits for it)."""
        return None


def fd_budget() -> int:
    """File descriptors a balancer may use: its hard limit, which it can raise itself to."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return FD_CAP if hard == resource.RLIM_INFINITY else min(hard, FD_CAP)


class ProxyBalancer(Balancer):
    """A reverse proxy run as our own child, with a generated config in ``workdir``."""

    layer = "L7 (requests)"
    program: ClassVar[str]
    debian_package: ClassVar[str]
    stop_signal: ClassVar[signal.Signals]  # the engine's graceful stop

    @abstractmethod
    def config(
        self, protocol: Protocol, backends: Sequence[Backend], host: str, port: int, workdir: Path
    ) -> str: ...

    @abstractmethod
    def command(self, binary: str, config_path: Path, workdir: Path) -> list[str]: ...

    def check(self, protocol: Protocol) -> None:
        super().check(protocol)
        self.binary()

    def binary(self) -> str:
        found = shutil.which(self.program) or shutil.which(self.program, path="/usr/sbin:/sbin")
        if found is None:
            raise BalancerError(
                f"the {self.name} balancer needs the `{self.program}` program, which is not "
                f"installed. On Debian/Ubuntu: sudo apt-get install {self.debian_package} "
                "(or run `make system-deps`)."
            )
        return found

    def start(
        self, protocol: Protocol, backends: Sequence[Backend], host: str, port: int, workdir: Path
    ) -> subprocess.Popen[bytes]:
        self.check(protocol)
        binary = self.binary()
        config_path = workdir / f"{self.name}.conf"
        config_path.write_text(self.config(protocol, backends, host, port, workdir))
        with (workdir / f"{self.name}.log").open("ab") as log:
            return subprocess.Popen(
                self.command(binary, config_path, workdir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,  # Ctrl-C reaches the launcher only; it stops us in order
            )
