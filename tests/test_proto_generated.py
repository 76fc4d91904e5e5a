"""The committed code in protobench/v1 is what `make proto` makes from proto/ today."""

from __future__ import annotations

from pathlib import Path

from protobench.codegen import ROOT, generate


def test_generated_code_is_not_stale(tmp_path: Path) -> None:
    written = generate(tmp_path)
    assert written
    stale = [
        str(path.relative_to(tmp_path))
        for path in written
        if path.read_bytes() != (ROOT / path.relative_to(tmp_path)).read_bytes()
    ]
    assert not stale, f"run `make proto` and commit the result; stale: {stale}"
