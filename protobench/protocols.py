"""The protocol registry: every protocol protobench speaks, found from the specs beside the
adapters, in the order of their ``order``.

A spec is a module-level ``SPEC`` in a module of the ``servers`` package whose name ends in
``_spec`` (``servers/rest_spec.py``), or in the ``spec`` module of a sub-package
(``servers/soap/spec.py``). Modules named in ``PROTOBENCH_PROTOCOL_SPECS`` (comma-separated)
are read too, which lets a protocol outside this repository join — the variable is inherited by
the server, replica and Locust processes, so they all see the same registry. Nothing here
imports a transport library; see ``protobench.protocol_spec``.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Iterator
from pathlib import Path

from protobench.protocol_spec import ProtocolSpec, Transport

Protocol = str  # a registered protocol's name; ``spec()`` checks it
SPEC_PACKAGE = "servers"
EXTRA_SPECS_ENV = "PROTOBENCH_PROTOCOL_SPECS"


class UnknownProtocolError(ValueError):
    """A name no spec declares."""


def _spec_modules() -> Iterator[str]:
    """Looked up as files: importing a sub-package just to ask would run its ``__init__``."""
    package = importlib.import_module(SPEC_PACKAGE)
    if getattr(package, "__file__", None) is None:  # a bare folder named like it shadows it
        raise ImportError(
            f"'{SPEC_PACKAGE}' was found as the folder {list(package.__path__)}, not protobench's "
            "package (a folder of that name in the working directory shadows it): run from "
            "another directory"
        )
    folders = [Path(p) for p in package.__path__]
    for info in sorted(pkgutil.iter_modules([str(f) for f in folders]), key=lambda i: i.name):
        if info.name.endswith("_spec"):
            yield f"{SPEC_PACKAGE}.{info.name}"
        elif info.ispkg and any((f / info.name / "spec.py").is_file() for f in folders):
            yield f"{SPEC_PACKAGE}.{info.name}.spec"
    extra = os.environ.get(EXTRA_SPECS_ENV, "")
    yield from (name.strip() for name in extra.split(",") if name.strip())


def _discover() -> dict[str, ProtocolSpec]:
    found: dict[str, ProtocolSpec] = {}
    for module_name in _spec_modules():
        spec = getattr(importlib.import_module(module_name), "SPEC", None)
        if not isinstance(spec, ProtocolSpec):
            raise TypeError(f"{module_name} must define SPEC = ProtocolSpec(...)")
        if spec.name in found:
            raise ValueError(f"two specs declare the protocol {spec.name!r}")
        found[spec.name] = spec
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


SPECS: dict[str, ProtocolSpec] = _discover()
PROTOCOLS: tuple[Protocol, ...] = tuple(SPECS)
DEFAULT_PORTS: dict[Protocol, int] = {name: s.default_port for name, s in SPECS.items()}


def spec(protocol: str) -> ProtocolSpec:
    """The spec of ``protocol``, or an error that lists the known ones."""
    try:
        return SPECS[protocol]
    except KeyError:
        raise UnknownProtocolError(
            f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}"
        ) from None


def specs() -> tuple[ProtocolSpec, ...]:
    return tuple(SPECS.values())


def with_transport(*transports: Transport) -> tuple[Protocol, ...]:
    """The protocols that travel on any of ``transports``."""
    return tuple(s.name for s in SPECS.values() if s.transport in transports)


__all__ = [
    "DEFAULT_PORTS",
    "PROTOCOLS",
    "SPECS",
    "Protocol",
    "ProtocolSpec",
    "Transport",
    "UnknownProtocolError",
    "spec",
    "specs",
    "with_transport",
]
