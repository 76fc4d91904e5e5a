"""Raw requests for the hardening tests, through each protocol's probe (``clients.probe``).

Every answer is read back to the core ``ErrorCode`` of each error it holds (none for a success),
with its text, so a test checks the two promises that hold for any input: the error is the
caller's (never INTERNAL or a 5xx), and nothing leaks a traceback.
"""

from __future__ import annotations

from clients.probe import IRIS_ROW, Probe, Verdict
from protobench.core.errors import ErrorCode
from protobench.protocol_spec import load
from protobench.protocols import spec
from tests.support.servers import RunningServer

LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages")
SERVER_FAILURES = ("INTERNAL", "UNKNOWN", "DATA_LOSS")  # gRPC status names


def probe_for(server: RunningServer) -> Probe:
    """The probe the server's protocol spec names, connected to it."""
    probe_class = load(spec(server.protocol).probe)
    assert isinstance(probe_class, type) and issubclass(probe_class, Probe), probe_class
    return probe_class(server.target)


def http_predict(protocol: str, extra_headers: bytes = b"") -> bytes:
    """A one-row predict as the protocol's probe POSTs it over HTTP/1.1, ``extra_headers``
    added."""
    probe = load(spec(protocol).probe)
    body = probe("unused").predict_body([IRIS_ROW])
    head = b"POST %s HTTP/1.1\r\nhost: t\r\ncontent-type: %s\r\ncontent-length: %d\r\n" % (
        probe.path.encode(),
        probe.content_type.encode(),
        len(body),
    )
    return head + extra_headers + b"\r\n" + body


def assert_caller_error_at_most(verdict: Verdict, context: object = "") -> None:
    """A success or the caller's error: never INTERNAL, a 5xx or a leaked traceback."""
    assert ErrorCode.INTERNAL not in verdict.errors, (context, verdict)
    assert not (isinstance(verdict.status, int) and verdict.status >= 500), (context, verdict)
    assert verdict.status not in SERVER_FAILURES, (context, verdict)
    assert not any(marker in verdict.text for marker in LEAK_MARKERS), (context, verdict)


__all__ = [
    "IRIS_ROW",
    "Probe",
    "Verdict",
    "assert_caller_error_at_most",
    "http_predict",
    "probe_for",
]
