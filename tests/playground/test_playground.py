"""The playground in a real browser and through gradio's own client, against real servers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits

from protobench.core.images import features_to_png
from protobench.core.registry import ModelRegistry
from protobench.protocols import PROTOCOLS

VIRGINICA = [6.7, 3.0, 5.2, 2.3]
WAIT_S = 90.0
ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


def _wait(chrome: Any, script: str, what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = chrome.execute_script(script)
        if value:
            return value
        time.sleep(0.3)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    chrome.save_screenshot(str(ARTEFACTS / "playground-timeout.png"))
    raise AssertionError(f"timed out waiting for {what}")


def _open_tab(chrome: Any, title: str) -> None:
    _wait(chrome, "const t = [...document.querySelectorAll('button[role=tab]')].find("
          f"b => b.innerText.includes('{title}') && b.offsetParent !== null);"
          "t && t.click(); return t && t.getAttribute('aria-selected') === 'true'",
          f"the {title} tab")  # fmt: skip


def _server_probabilities(models_dir: Path, row: list[float]) -> list[float]:
    registry = ModelRegistry(models_dir)
    registry.load()
    proba = registry.get("iris").network.predict_proba(np.asarray([row], dtype=np.float64))
    return [float(p) for p in proba[0]]


def test_compare_through_gradio_client(playground_url: str) -> None:
    from gradio_client import Client

    rows = Client(playground_url, verbose=False).predict("5.1,3.5,1.4,0.2", api_name="/compare")
    assert [row[0] for row in rows] == list(PROTOCOLS)
    for protocol, label, latency_ms, request_bytes, response_bytes in rows:
        assert label == "setosa", protocol
        assert latency_ms > 0 and request_bytes > 0 and response_bytes > 0, protocol


def test_predict_through_gradio_client_shows_the_exchange(playground_url: str) -> None:
    from gradio_client import Client

    client = Client(playground_url, verbose=False)
    label, summary, sent, received = client.predict("grpc", "6.7,3.0,5.2,2.3", api_name="/predict")
    assert label["label"] == "virginica"
    assert ":path: /protobench.v1.InferenceService/Predict" in sent
    assert "decoded PredictRequest" in sent and "features: 6.7" in sent
    assert 'label: "virginica"' in received and "grpc-status: 0" in received
    assert "HTTP/2" in summary and "examples/clients/grpc_stubs.py" in summary
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="separated by commas"):
        client.predict("rest", "1,2,three", api_name="/predict")


def test_sliders_compare_and_upload_in_a_browser(
    playground_url: str, browser: Any, models_dir: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    chrome = browser
    chrome.get(playground_url)
    _wait(chrome, "return document.querySelectorAll('#features textarea, #features input').length",
          "the page")  # fmt: skip
    numbers = chrome.find_elements(By.CSS_SELECTOR, "input[type=number]")[:4]
    for box, value in zip(numbers, VIRGINICA, strict=True):
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(str(value), Keys.TAB)
    wanted = ",".join(f"{v:g}" for v in VIRGINICA)
    _wait(chrome, "const f = document.querySelector('#features textarea, #features input');"
          f"return f && f.value === '{wanted}'", f"the sliders to read {wanted}")  # fmt: skip

    _open_tab(chrome, "Compare")
    chrome.find_element(By.ID, "compare").click()
    table = _wait(
        chrome,
        "const t = document.querySelector('#compare-table');"
        f"return t && (t.innerText.match(/virginica/g) || []).length >= {len(PROTOCOLS) + 1}"
        " ? t.innerText : '';",
        "the comparison table",
    )
    for protocol in PROTOCOLS:
        assert protocol in table
    assert "on-device" in table
    _wait(chrome, "const b = [...document.querySelectorAll('button')].find("
          "b => b.innerText.includes('What this browser computed')); b && b.click(); return b",
          "the on-device accordion")  # fmt: skip
    on_device = json.loads(_wait(
        chrome, "const f = document.querySelector('#on-device textarea, #on-device input');"
        "return f ? f.value : ''", "the on-device result"
    ))  # fmt: skip
    expected = _server_probabilities(models_dir, VIRGINICA)
    assert on_device["label"] == "virginica"
    assert np.allclose(on_device["probabilities"], expected, rtol=0, atol=1e-6)

    resources = chrome.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name)"
    )
    assert all(name.startswith(playground_url.rstrip("/")) for name in resources), resources
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    chrome.save_screenshot(str(ARTEFACTS / "playground-compare.png"))


def test_upload_a_digit_in_a_browser(playground_url: str, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    digits = load_digits()
    seven = features_to_png(digits.data[int(np.flatnonzero(digits.target == 7)[0])])
    image = tmp_path / "seven.png"
    image.write_bytes(seven)
    chrome = browser
    chrome.get(playground_url)
    _wait(chrome, "return document.querySelector('#upload input[type=file]')", "the upload")
    chrome.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(image))
    time.sleep(1.0)
    chrome.find_element(By.ID, "predict-upload").click()
    text = _wait(chrome, "const s = document.querySelector('#summary');"
                 "return s && s.innerText.includes('served by') ? s.innerText : ''",
                 "the answer")  # fmt: skip
    assert text.startswith("7"), text


@pytest.mark.parametrize("browser", ["es"], indirect=True)
def test_the_page_speaks_the_browsers_language(playground_url: str, browser: Any) -> None:
    chrome = browser
    chrome.get(playground_url)
    body = _wait(chrome, "return document.body.innerText.includes('Predecir la flor')"
                 " ? document.body.innerText : ''", "the Spanish page")  # fmt: skip
    assert "Comparar" in body and "Predict the flower" not in body


def test_a_burst_moves_traffic_between_versions(playground_url: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    chrome = browser
    chrome.get(playground_url)
    _wait(chrome, "return document.querySelector('#features')", "the page")
    _open_tab(chrome, "strategies")
    _wait(chrome, "return document.querySelector('#apply-strategy')", "the strategies tab")
    chrome.find_element(By.ID, "apply-strategy").click()  # A/B over versions 1 and 2
    _wait(chrome, "return document.querySelector('#strategy').innerText.includes('ab')",
          "the A/B strategy")  # fmt: skip
    chrome.find_element(By.ID, "burst").click()
    # version, calls, ... per row (gradio's grid rows; the header row has no gridcells): both
    # versions served part of the 100 calls
    calls = _wait(
        chrome,
        "const rows = [...document.querySelectorAll('#strategy-counts [role=row]')].map("
        "r => [...r.querySelectorAll('[role=gridcell]')].map(c => c.innerText.trim()))"
        ".filter(r => r.length);"
        "const calls = rows.map(r => Number(r[1]));"
        "return rows.length === 2 && calls.reduce((a, b) => a + b, 0) >= 100 ? calls : null",
        "the burst to show in the counts",
    )
    assert all(c > 0 for c in calls), calls
