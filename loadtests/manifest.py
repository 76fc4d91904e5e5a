"""What a run was done with: enough to reproduce it and to judge its numbers."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

LIBRARIES = (
    "protobench", "fastapi", "starlette", "uvicorn", "httpx", "grpcio", "protobuf",
    "strawberry-graphql", "graphql-core", "jsonrpcserver", "locust", "gevent", "numpy",
    "scikit-learn", "pydantic", "orjson",
)  # fmt: skip


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _program_version(program: str) -> str | None:
    path = shutil.which(program, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if path is None:
        return None
    result = subprocess.run([path, "-v"], capture_output=True, text=True, timeout=10, check=False)
    text = (result.stdout or result.stderr).strip().splitlines()
    return text[0] if text else None


def build_manifest(argv: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "command": " ".join(argv),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": sorted(os.sched_getaffinity(0)),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "balancers": {name: _program_version(name) for name in ("nginx", "haproxy")},
        **(extra or {}),
    }
