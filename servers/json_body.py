"""Request bodies as JSON, read the same way by every JSON protocol: numbers JSON cannot
write reach the core, which refuses them as INVALID_INPUT.

orjson refuses ``NaN``, ``Infinity`` and numbers beyond a double (``1e999``) as malformed
JSON, which made them a parse error on JSON-RPC (-32700) and GraphQL (HTTP 400) while REST,
whose parser is the standard library's, reads them as floats and refuses them with 422. A
body orjson refuses is read again here with the standard library; if that succeeds, the
non-finite floats go on to the core's check. Only a body orjson refuses pays the second read.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(body: bytes | str) -> Any:
    """orjson's reading, or the standard library's where only it can read the body; raises
    orjson's ``JSONDecodeError`` when neither can."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            pass
        raise
