"""Swagger UI at /docs and GraphiQL at /graphql render in a browser that can reach nothing but
loopback: their scripts come from the servers, not from a CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.playground.test_playground import ARTEFACTS, _wait
from tests.support.servers import running_server

PAGES = {
    # protocol: (path, script that returns truthy once the explorer has rendered)
    "rest": ("/docs", "const t = document.querySelector('.swagger-ui .info .title');"
                      "return t && t.innerText.includes('protobench REST API')"),
    "graphql": ("/graphql", "return document.querySelector('.graphiql-container .graphiql-editor')"
                            " !== null"),
}  # fmt: skip


@pytest.mark.parametrize("protocol", sorted(PAGES))
def test_explorer_renders_offline(
    protocol: str, browser: Any, models_dir: Path, tmp_path: Path
) -> None:
    path, rendered = PAGES[protocol]
    with running_server(protocol, tmp_path, models_dir) as server:
        base = f"http://{server.target}"
        browser.get(base + path)
        _wait(browser, rendered, f"the {protocol} explorer to render")
        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map(r => r.name)"
        )
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTEFACTS / f"explorer-{protocol}.png"))
    assert resources, "the page loaded no script at all"
    assert all(name.startswith(base) for name in resources), resources
