"""Where a server listens, and binding that socket ourselves.

Binding before handing the socket to uvicorn or grpcio lets ``--port 0`` work (the kernel picks
a free port, which is then announced) and makes SO_REUSEPORT an explicit choice.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Listen:
    host: str = "127.0.0.1"
    port: int = 0
    reuse_port: bool = False
    port_file: Path | None = None  # the bound port is written here once listening


def _family(host: str) -> socket.AddressFamily:
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return socket.AF_INET  # a name such as "localhost"


def bind_socket(listen: Listen) -> socket.socket:
    sock = socket.socket(_family(listen.host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if listen.reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((listen.host, listen.port))
    except OSError as exc:
        sock.close()
        raise SystemExit(
            f"cannot listen on {listen.host}:{listen.port}: {exc.strerror}. "
            "Choose another --port (0 picks a free one)."
        ) from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def announce(listen: Listen, protocol: str, port: int) -> None:
    """Tell people (stderr) and programs (``port_file``, written atomically) where we listen."""
    host = f"[{listen.host}]" if ":" in listen.host else listen.host
    print(
        f"protobench: {protocol} server listening on {host}:{port} (pid {os.getpid()})",
        file=sys.stderr,
        flush=True,
    )
    if listen.port_file is not None:
        tmp = listen.port_file.with_name(listen.port_file.name + ".tmp")
        tmp.write_text(str(port))
        os.replace(tmp, listen.port_file)
