"""Raw access to a server for the hardening tests: request bytes in, the protocol's verdict out.

Each protocol's spec names its probe (``ProtocolSpec.probe``). The hardening suite sends through
it what no well-behaved client would — garbage, a valid request padded past the size limit, a
body streamed without a length — and reads every answer back to core ``ErrorCode`` values, so
one test checks one promise on every protocol: the error is the caller's (never INTERNAL or a
5xx), and nothing leaks a traceback.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Self

import httpx
import orjson

from clients.http_transport import KEEPALIVE_EXPIRY_S
from protobench.core.errors import ErrorCode
from protobench.error_table import from_http_status

IRIS_ROW = [5.1, 3.5, 1.4, 0.2]


@dataclass
class Verdict:
    """What the server answered: the core code of each error (empty: success) and the text."""

    status: object  # the protocol's own status: an HTTP status, a gRPC status name, ...
    errors: list[ErrorCode] = field(default_factory=list)
    text: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


class Probe(ABC):
    """One connection to a server that sends raw predict requests for the iris model.

    ``body_format`` says which byte-level cases apply (``"json"``: NaN literals, deep nesting,
    whitespace padding); ``streams_bodies`` whether a body can be sent without a length.
    """

    body_format: ClassVar[str]
    streams_bodies: ClassVar[bool] = False

    def __init__(self, target: str, *, timeout: float = 30.0) -> None:
        self.target = target
        self.timeout = timeout

    @abstractmethod
    def predict_body(self, rows: Any) -> bytes:
        """A predict request for iris carrying ``rows`` as given (valid or not)."""

    @abstractmethod
    def send(self, body: bytes | Iterator[bytes]) -> Verdict:
        """``body`` as the predict request; an iterator streams it without a length."""

    @abstractmethod
    def padded(self, size: int) -> bytes:
        """A valid one-row predict request exactly ``size`` bytes long."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class HttpJsonProbe(Probe):
    """A protocol that POSTs JSON documents to one path; ``read`` may look inside 200s."""

    body_format = "json"
    streams_bodies = True
    path: ClassVar[str]
    content_type: ClassVar[str] = "application/json"

    def __init__(self, target: str, *, timeout: float = 30.0) -> None:
        super().__init__(target, timeout=timeout)
        self.http = httpx.Client(
            base_url=f"http://{target}",
            timeout=timeout,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_EXPIRY_S),
        )

    @abstractmethod
    def document(self, rows: Any) -> dict[str, Any]:
        """The predict request as a JSON document."""

    def predict_body(self, rows: Any) -> bytes:
        return orjson.dumps(self.document(rows))

    def padded(self, size: int) -> bytes:
        body = self.predict_body([IRIS_ROW])
        return body + b" " * (size - len(body))  # whitespace after the document is still JSON

    def send(self, body: bytes | Iterator[bytes], content_type: str | None = None) -> Verdict:
        headers = {"content-type": content_type or self.content_type}
        return self.read(self.http.post(self.path, content=body, headers=headers))

    def read(self, response: httpx.Response) -> Verdict:
        """An error status, read from the body's ``code`` when it names a core code."""
        verdict = Verdict(response.status_code, text=response.text)
        if response.status_code >= 400:
            code = self.answer(response)
            code = code.get("code") if isinstance(code, dict) else None
            verdict.errors.append(
                ErrorCode(code)
                if isinstance(code, str) and code in ErrorCode.__members__
                else from_http_status(response.status_code)
            )
        return verdict

    @staticmethod
    def answer(response: httpx.Response) -> Any:
        """The JSON document of the answer, or None when it is not JSON."""
        try:
            return orjson.loads(response.content) if response.content else None
        except orjson.JSONDecodeError:
            return None

    def close(self) -> None:
        self.http.close()


def padded_protobuf(message: bytes, size: int) -> bytes:
    """A serialized protobuf message made exactly ``size`` bytes long by an unknown field
    (number 1000, bytes), which parsers skip and servers never echo."""
    tag = bytes([(1000 << 3 | 2) & 0x7F | 0x80, (1000 << 3 | 2) >> 7])
    for length_size in range(1, 6):
        filler = size - len(message) - len(tag) - length_size
        length = _varint(filler)
        if len(length) == length_size:
            return message + tag + length + b"\0" * filler
    raise ValueError(f"cannot pad to {size} bytes")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
