"""Tensors of the Open Inference Protocol (V2), between their wire forms and numpy.

Shared by the OIP REST and gRPC adapters and their clients; it imports no transport. Three wire
forms carry a tensor's elements, flattened in row-major order:
- JSON ``data``: a flat or nested list of numbers, booleans, or strings for BYTES;
- raw bytes (gRPC ``raw_*_contents``, HTTP's binary tensor extension): fixed-size elements
  little-endian without padding; BYTES elements each as a 4-byte little-endian length, then
  the bytes;
- gRPC typed ``contents`` (converted by the gRPC adapter to a flat list, then like JSON).
Anything malformed is the caller's input: ``CoreError(INVALID_INPUT)`` with what was wrong.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from protobench.core.errors import CoreError, ErrorCode

NUMERIC: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype("?"),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
BYTES = "BYTES"
DATATYPES = (*NUMERIC, BYTES)
_DATATYPE_SET = frozenset(DATATYPES)
_SIZE_TYPES = frozenset({int})
_LENGTH = struct.Struct("<I")


def invalid(message: str, **details: Any) -> CoreError:
    return CoreError(ErrorCode.INVALID_INPUT, message, details or None)


@dataclass(slots=True)  # not frozen: one is made per request, and frozen init costs
class Tensor:
    """A decoded tensor: numeric elements as an array of ``shape``, or BYTES as a flat list."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    array: npt.NDArray[Any] | None = None
    items: list[bytes] | None = None


def check_header(name: object, datatype: object, shape: object) -> tuple[str, str, tuple[int, ...]]:
    """The name, datatype and shape of an input tensor, checked."""
    if not isinstance(name, str) or not name:
        raise invalid("every input needs a name")
    if not isinstance(datatype, str) or datatype not in _DATATYPE_SET:
        raise invalid(
            f"input {name!r}: datatype {datatype!r} is not one of {', '.join(DATATYPES)}",
            input=name,
        )
    if not isinstance(shape, list | tuple):
        raise invalid(f"input {name!r}: shape must be a list of sizes", input=name)
    dims = tuple(shape)
    # set(map(type, ...)) is a C loop: a third of a generator's cost. bool is no size.
    if dims and (set(map(type, dims)) != _SIZE_TYPES or min(dims) < 0):
        raise invalid(f"input {name!r}: shape {list(dims)} must hold sizes >= 0", input=name)
    return name, datatype, dims


def element_count(shape: Sequence[int]) -> int:
    return math.prod(shape)


def from_raw(name: str, datatype: str, shape: tuple[int, ...], raw: bytes) -> Tensor:
    """A tensor from its raw bytes."""
    count = element_count(shape)
    if datatype == BYTES:
        items = split_bytes(name, raw)
        _check_count(name, shape, len(items))
        return Tensor(name, datatype, shape, items=items)
    dtype = NUMERIC[datatype]
    if len(raw) != count * dtype.itemsize:
        raise invalid(
            f"input {name!r}: shape {list(shape)} of {datatype} needs {count * dtype.itemsize} "
            f"bytes, the data has {len(raw)}",
            input=name,
        )
    # One step, no copy (the length is checked above): frombuffer then reshape costs twice this.
    return Tensor(name, datatype, shape, array=np.ndarray(shape, dtype, raw))


def from_list(name: str, datatype: str, shape: tuple[int, ...], data: object) -> Tensor:
    """A tensor from JSON ``data`` (flat or nested) or gRPC's typed contents."""
    flat = _flatten(name, data)
    _check_count(name, shape, len(flat))
    if datatype == BYTES:
        items = [_as_bytes(name, item) for item in flat]
        return Tensor(name, datatype, shape, items=items)
    if not all(_is_number(item, datatype) for item in flat):
        raise invalid(f"input {name!r}: every element of a {datatype} tensor must be a number")
    try:
        array = np.asarray(flat, dtype=NUMERIC[datatype])
    except (OverflowError, ValueError):
        raise invalid(f"input {name!r}: an element does not fit {datatype}", input=name) from None
    return Tensor(name, datatype, shape, array=array.reshape(shape))


def from_values(name: str, datatype: str, shape: tuple[int, ...], values: Sequence[Any]) -> Tensor:
    """A tensor from gRPC's typed contents: a flat sequence whose field type already holds it
    to one kind (numbers of the field's type, booleans, or bytes), so no element is checked in
    Python; a number too large for a narrower datatype (an INT8 in ``int_contents``) is."""
    _check_count(name, shape, len(values))
    if datatype == BYTES:
        return Tensor(name, datatype, shape, items=list(values))
    try:
        array = np.array(values, dtype=NUMERIC[datatype])
    except (OverflowError, ValueError):
        raise invalid(f"input {name!r}: an element does not fit {datatype}", input=name) from None
    return Tensor(name, datatype, shape, array=array.reshape(shape))


def _check_count(name: str, shape: tuple[int, ...], found: int) -> None:
    count = element_count(shape)
    if found != count:
        raise invalid(
            f"input {name!r}: shape {list(shape)} holds {count} elements, the data {found}",
            input=name,
        )


def _flatten(name: str, data: object) -> list[object]:
    if not isinstance(data, list):
        raise invalid(f"input {name!r}: data must be a list", input=name)
    if not any(isinstance(item, list) for item in data):
        return data
    flat: list[object] = []
    stack: list[object] = [data]
    while stack:  # depth-first, without recursion: a deep document cannot exhaust the stack
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            flat.append(item)
    return flat


def _is_number(item: object, datatype: str) -> bool:
    if datatype == "BOOL":
        return isinstance(item, bool)
    return isinstance(item, int | float) and not isinstance(item, bool)


def _as_bytes(name: str, item: object) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode()
    raise invalid(f"input {name!r}: BYTES elements must be strings", input=name)


def split_bytes(name: str, raw: bytes) -> list[bytes]:
    """BYTES elements from their raw form: each a 4-byte little-endian length, then the bytes."""
    items: list[bytes] = []
    offset = 0
    while offset < len(raw):
        if offset + _LENGTH.size > len(raw):
            raise invalid(f"input {name!r}: a BYTES element's length is cut short", input=name)
        (length,) = _LENGTH.unpack_from(raw, offset)
        offset += _LENGTH.size
        if offset + length > len(raw):
            raise invalid(f"input {name!r}: a BYTES element is cut short", input=name)
        items.append(raw[offset : offset + length])
        offset += length
    return items


def join_bytes(items: Sequence[bytes]) -> bytes:
    """The raw form of BYTES elements."""
    return b"".join(_LENGTH.pack(len(item)) + item for item in items)


def raw_of(array: npt.NDArray[Any], datatype: str) -> bytes:
    """The raw little-endian form of a numeric array."""
    return np.ascontiguousarray(array, dtype=NUMERIC[datatype]).tobytes()
