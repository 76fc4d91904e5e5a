"""What protobench needs to know about one protocol, declared once beside its adapter.

A spec is plain data: every piece of code it names (server, client, hardening probe, Locust
set-up, breakdown codec) is a ``"module:attribute"`` string imported on first use, so reading
the registry loads no transport library — grpcio in particular must not load before the
launcher forks replicas. ``protobench.protocols`` finds the specs and answers every "which
protocols / what about this one" question; docs/adding-a-protocol.md walks through writing one.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from protobench.core.errors import ErrorCode

Code = TypeVar("Code", int, str)


class Transport(StrEnum):
    """How the bytes travel: the wire counter picks its parser and the balancers their mode
    from it."""

    HTTP1 = "http/1.1"  # one request per exchange; Content-Length bodies
    H2C = "h2c"  # HTTP/2 without TLS, gRPC's length-prefixed messages in DATA frames
    TCP = "tcp"  # a raw TCP stream with the protocol's own framing
    BROKER = "broker"  # through a message broker: no direct client-server connection


BALANCERS_BY_TRANSPORT: Mapping[Transport, tuple[str, ...]] = {
    Transport.HTTP1: ("reuseport", "nginx", "haproxy"),
    Transport.H2C: ("reuseport", "nginx", "haproxy"),
    Transport.TCP: ("reuseport",),
    Transport.BROKER: (),
}
"""What a transport can go through unless the spec says otherwise: the kernel spreads any TCP
listener; nginx and HAProxy are configured for HTTP/1.1 and h2c (gRPC) only; a broker balances
itself."""


@dataclass(frozen=True)
class ErrorRow(Generic[Code]):
    """One protocol's row of the error table: each core ``ErrorCode`` as the protocol says it,
    and the way back. ``fallback`` reads a protocol code that is not in the row (for HTTP, any
    other 4xx is the caller's input)."""

    codes: Mapping[ErrorCode, Code]
    fallback: Callable[[Code], ErrorCode] = lambda _: ErrorCode.INTERNAL
    _back: dict[Code, ErrorCode] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        missing = set(ErrorCode) - set(self.codes)
        if missing:
            raise ValueError(f"the error row has no code for {sorted(c.value for c in missing)}")
        back: dict[Code, ErrorCode] = {}
        for core, code in self.codes.items():
            back.setdefault(code, core)  # a code said twice reads back as the first
        object.__setattr__(self, "_back", back)

    def code(self, error: ErrorCode) -> Code:
        """How the protocol says ``error``."""
        return self.codes[error]

    def to_core(self, code: Code) -> ErrorCode:
        """The core code for what the protocol said."""
        found = self._back.get(code)
        return found if found is not None else self.fallback(code)

    def replace(self, **changes: Code) -> ErrorRow[Code]:
        """This row with some codes changed, e.g. ``replace(INVALID_INPUT=400)``."""
        codes = {**self.codes, **{ErrorCode[name]: code for name, code in changes.items()}}
        return ErrorRow(codes, self.fallback)


@dataclass(frozen=True)
class ReportStyle:
    """How the report shows the protocol.

    ``note`` names a teaching note comparing this protocol with REST (body bytes and server CPU
    per request); its title, text and evidence come from ``texts`` (language -> key -> pattern,
    keys ``note.<note>.title``/``.text``/``.evidence``) merged into the report's catalogues.
    """

    label: str
    colour: str  # #RRGGBB, distinct from the other protocols'
    note: str | None = None
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


class Streaming(StrEnum):
    """What the protocol offers besides one request, one answer (protobench sends unary calls
    on every protocol); the report words it in each language."""

    NONE = "none"
    BIDI = "bidi"  # client, server and bidirectional streams of messages (HTTP/2)
    SUBSCRIPTIONS = "subscriptions"  # a subscription operation that pushes results
    PUBSUB = "pubsub"  # publish/subscribe: any number of messages, in either direction


@dataclass(frozen=True)
class Traits:
    """The protocol's qualitative columns in the lecture's protocol table (year, format type,
    most important feature) and the ones the report adds beside them (the format on the wire,
    contract, streaming); the transport is the spec's ``transport``.

    ``feature`` and ``formats`` are per language (``{"es": ..., "en": ...}``); for a protocol
    the lecture's table lists, ``year``, ``formats`` and ``feature`` are the lecture's words
    (``in_lecture``), which ``payload`` may contradict: it is what protobench sends."""

    year: str | None  # None: not known to the project
    payload: str  # what protobench sends on it: "JSON", "protobuf", "XML", ...
    contract: str | None  # the machine-readable contract ("WSDL", ".proto"); None: none
    streaming: Streaming
    feature: Mapping[str, str]
    in_lecture: bool = True
    formats: Mapping[str, str] | None = None  # the formats it can carry; None: as ``payload``


@dataclass(frozen=True)
class ProtocolSpec:
    """One protocol. ``order`` sorts the registry (CLI choices, default bench list, report)."""

    name: str  # lower case, letters, digits and dashes: a CLI choice and a pytest marker
    order: int
    summary: str  # one line for --help and the docs
    server: str  # "module:function", ``serve(service, listen)`` that blocks until stopped
    client: str  # "module:Class", a ``clients.base.InferenceClient``
    default_port: int
    errors: ErrorRow[int] | ErrorRow[str]
    transport: Transport
    report: ReportStyle
    probe: str  # "module:Class", a ``clients.probe.Probe`` for the hardening tests
    balancers: tuple[str, ...] | None = None  # None: what the transport allows
    locust_user: str = ""  # the Locust class name; "" derives it ("oip-rest" -> OipRestUser)
    load_client_options: Mapping[str, object] = field(default_factory=dict)
    """Extra keyword arguments for the client under load (one connection per Locust user)."""
    locust_setup: str | None = None
    """"module:function" run once in a Locust process before its first client (gevent hooks)."""
    operations: frozenset[str] | None = None
    """The core operations it carries (``protobench.core.service.OPERATIONS``); None: all. A
    standard protocol may have no place for some; its client raises ``NotOffered`` for them
    and the suites skip them with that reason."""
    traits: Traits | None = None
    """The lecture table's qualitative columns; None: the report says they are not declared."""
    codec: str | None = None
    """"module:function" returning a ``protobench.codec.Codec``: the adapter's and client's
    encoders of a predict, for the CPU breakdown (``make demo``, ``loadtests.breakdown``);
    None: the breakdown skips the protocol and says so."""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", self.name):
            raise ValueError(f"protocol name {self.name!r}: use lower-case letters, digits, -")
        if not self.locust_user:
            words = self.name.split("-")
            object.__setattr__(self, "locust_user", "".join(w.title() for w in words) + "User")
        if self.balancers is None:
            object.__setattr__(self, "balancers", BALANCERS_BY_TRANSPORT[self.transport])

    @property
    def supported_balancers(self) -> tuple[str, ...]:
        assert self.balancers is not None  # filled in by __post_init__
        return self.balancers

    def offers(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations

    @property
    def marker(self) -> str:
        """The pytest marker (``pytest -m oip_rest``): the name with dashes as underscores."""
        return self.name.replace("-", "_")


def load(reference: str) -> object:
    """The object a ``"module:attribute"`` string names, importing its module."""
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
