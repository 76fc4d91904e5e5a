"""What every adapter says or does the same way, written once: the internal-error message, the
too-large refusal, the wording of a pydantic validation error and base64 decoding. Each
adapter renders these in its own protocol's idiom (docs/protocols' error table)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

from protobench.core.errors import CoreError, ErrorCode

# What a caller reads when the server failed; the details are in the server's log only.
INTERNAL_MESSAGE = "internal error; the server log has the details"


def too_large(size: int, limit: int) -> CoreError:
    """A request body or message of ``size`` bytes (or more) over the ``limit``."""
    return CoreError(
        ErrorCode.TOO_LARGE,
        f"the request body is {size} bytes or more; the limit is {limit}",
        {"bytes": size, "limit": limit},
    )


def validation_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """pydantic's error list as sent to callers: where (``loc``) and what (``msg``), no input
    echoed back."""
    return [
        {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in errors
    ]


def validation_message(errors: list[dict[str, Any]], what: str = "request") -> str:
    """One line naming the first problem: ``instances.0.1: Input should be a valid number``."""
    if not errors:
        return f"invalid {what}"
    first = errors[0]
    return f"{'.'.join(first['loc']) or what}: {first['msg']}"


def decode_base64(text: str, field: str = "image") -> bytes:
    """Standard base64 (RFC 4648 §4, with padding, no line breaks); anything else is the
    caller's mistake (INVALID_INPUT)."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CoreError(
            ErrorCode.INVALID_INPUT,
            f"{field} must be standard base64 (RFC 4648, with padding)",
            {"field": field},
        ) from exc
