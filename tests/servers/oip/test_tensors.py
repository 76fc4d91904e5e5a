"""The OIP tensor codec, offline: wire forms to numpy and back, and what it refuses."""

from __future__ import annotations

import numpy as np
import pytest

from protobench.core.errors import CoreError, ErrorCode
from protobench.oip_tensors import (
    check_header,
    from_list,
    from_raw,
    join_bytes,
    raw_of,
    split_bytes,
)


def test_raw_and_json_agree() -> None:
    rows = np.array([[1.5, 2.0, -3.0, 4.25]], dtype=np.float32)
    raw = from_raw("x", "FP32", (1, 4), raw_of(rows, "FP32"))
    listed = from_list("x", "FP32", (1, 4), [[1.5, 2, -3.0, 4.25]])
    assert raw.array is not None and listed.array is not None
    assert raw.array.tolist() == listed.array.tolist() == rows.tolist()


def test_bytes_round_trip() -> None:
    items = [b"", b"setosa", "ñ".encode(), b"\0\xff"]
    assert split_bytes("x", join_bytes(items)) == items
    assert from_raw("x", "BYTES", (2, 2), join_bytes(items)).items == items


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: from_raw("x", "FP64", (1, 4), b"\0" * 31), "needs 32 bytes"),
        (lambda: from_raw("x", "BYTES", (1,), b"\5\0\0\0abc"), "cut short"),
        (lambda: from_raw("x", "BYTES", (2,), join_bytes([b"a"])), "holds 2 elements"),
        (lambda: from_list("x", "INT32", (2,), [1, "2"]), "must be a number"),
        (lambda: from_list("x", "INT8", (1,), [1000]), "does not fit"),
        (lambda: from_list("x", "FP64", (2, 2), [[1.0], [2.0, 3.0]]), "holds 4 elements"),
        (lambda: check_header("x", "BF16", [1]), "datatype"),
        (lambda: check_header("x", "FP64", [-1, 4]), "sizes >= 0"),
        (lambda: check_header("", "FP64", [1]), "name"),
    ],
)
def test_malformed_tensors_are_the_callers_input(call: object, message: str) -> None:
    with pytest.raises(CoreError) as refused:
        call()  # type: ignore[operator]
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert message in refused.value.message


def test_deep_lists_do_not_exhaust_the_stack() -> None:
    deep: list[object] = [1.0]
    for _ in range(100_000):
        deep = [deep]
    assert from_list("x", "FP64", (1,), deep).array is not None
