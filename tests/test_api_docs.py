"""docs/api/ is what the contracts say today: regenerate with `python -m protobench.apidocs`."""

from __future__ import annotations

import pytest

from protobench.apidocs import DOCS, PAGES


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_committed_reference_matches_its_contract(page: str) -> None:
    committed = (DOCS / page).read_text()
    assert committed == PAGES[page](), (
        f"docs/api/{page} and its contract drifted apart: run `python -m protobench.apidocs`"
    )


def test_every_core_operation_is_in_every_reference() -> None:
    from protobench.core.service import OPERATIONS

    grpc, jsonrpc = PAGES["grpc.md"](), PAGES["jsonrpc.md"]()
    for operation in OPERATIONS:
        assert f"`{operation}`" in jsonrpc
        assert "".join(part.title() for part in operation.split("_")) in grpc


def test_the_readme_shows_the_generated_error_table() -> None:
    from protobench.apidocs import error_table

    readme = (DOCS.parent.parent / "README.md").read_text()
    assert error_table() in readme, "README's error table drifted: copy docs/api/errors.md's table"
