"""The playground's page: gradio components wired to ``Playground``'s actions.

API endpoints (gradio_client): ``/predict`` (protocol, features text), ``/predict_digit``
(protocol, image), ``/compare`` (features text).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from clients.base import ClientError
from protobench.core.types import StrategyConfig
from protobench.playground.actions import MAX_BURST, Outcome, Playground, png_bytes
from protobench.playground.on_device import PREDICT_JS
from protobench.playground.texts import TEXTS, language, say
from protobench.playground.wire_text import transport_name

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "clients"
FLOWER = "5.1,3.5,1.4,0.2"
SLIDERS = (("sepal_length", 4.0, 8.0, 5.1), ("sepal_width", 2.0, 4.5, 3.5),
           ("petal_length", 1.0, 7.0, 1.4), ("petal_width", 0.1, 2.5, 0.2))  # fmt: skip
KINDS = ["single", "shadow", "ab", "canary", "bandit"]
HISTOGRAM_BINS = 20
# No font from a CDN: the page must work in a classroom without internet.
THEME = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"])
I18N = gr.I18n(**TEXTS)


def _lang(request: gr.Request | None) -> str:
    return language(request.headers.get("accept-language") if request else None)


def _features(text: str, lang: str, n: int = 4) -> list[float]:
    try:
        values = [float(v) for v in str(text).split(",")]
    except ValueError:
        values = []
    if len(values) != n or not all(math.isfinite(v) for v in values):
        raise gr.Error(say(lang, "bad_features", n=n))
    return values


def _script(protocol: str) -> str:
    found = sorted(EXAMPLES.glob(protocol.replace("-", "_") + "_*.py"))
    return f"examples/clients/{found[0].name}" if found else "—"


def _show(outcome: Outcome, lang: str) -> tuple[Any, str, str, str]:
    exchange = outcome.exchange
    if outcome.answer is None:
        error = outcome.error
        summary = say(lang, "failed", code=error.code.value if error else "?",
                      message=error.message if error else "")  # fmt: skip
        return None, summary, exchange.request_text, exchange.response_text
    answer = outcome.answer
    labels = dict(zip(_labels_of(outcome), answer.predictions[0].probabilities, strict=False))
    summary = say(
        lang, "summary", label=outcome.label, version=answer.version,
        served_by=answer.served_by, latency=f"{outcome.latency_ms:.2f}",
        transport=transport_name(outcome.protocol), req=exchange.request_bytes,
        resp=exchange.response_bytes, setup=exchange.setup_bytes, script=_script(outcome.protocol),
    )  # fmt: skip
    return labels or {outcome.label: 1.0}, summary, exchange.request_text, exchange.response_text


def _labels_of(outcome: Outcome) -> list[str]:
    answer = outcome.answer
    model = answer.model if answer else ""
    return LABELS.get(model, [])


LABELS: dict[str, list[str]] = {}  # model -> label order, filled from the weights at build time


def build(playground: Playground, weights: dict[str, Any]) -> gr.Blocks:
    LABELS.update({name: doc["labels"] for name, doc in weights.items()})
    i18n = I18N
    protocols = playground.protocols

    def predict(protocol: str, features: str, request: gr.Request) -> tuple[Any, str, str, str]:
        lang = _lang(request)
        return _show(playground.predict_features(protocol, _features(features, lang)), lang)

    def predict_digit(protocol: str, image: Any, request: gr.Request) -> tuple[Any, str, str, str]:
        lang = _lang(request)
        if image is None:
            raise gr.Error(say(lang, "digit"))
        if isinstance(image, dict):  # the sketchpad's layers; the composite is what was drawn
            image = image.get("composite")
        return _show(playground.predict_image(protocol, png_bytes(image)), lang)

    def compare_table(
        features: str,
        on_device: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> pd.DataFrame:
        lang = _lang(request)
        rows = [
            [o.protocol, o.label, round(o.latency_ms, 3), o.exchange.request_bytes,
             o.exchange.response_bytes]
            for o in playground.compare(_features(features, lang))
        ]  # fmt: skip
        if on_device:
            local = json.loads(on_device)
            rows.append([say(lang, "ondevice"), local["label"], round(local["ms"], 3), 0, 0])
        columns = [say(lang, f"col.{c}") for c in ("protocol", "label", "latency", "request",
                                                    "response")]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    with gr.Blocks(title="protobench playground") as page:
        gr.Markdown(f"# {TEXTS['en']['title']}")
        gr.Markdown(i18n("intro"))
        weights_box = gr.JSON(value=weights, visible=False)
        protocol = gr.Dropdown(protocols, value=protocols[0], label=i18n("protocol"))
        with gr.Row():
            sliders = [gr.Slider(lo, hi, value=v, step=0.1, label=i18n(key))
                       for key, lo, hi, v in SLIDERS]  # fmt: skip
        features = gr.Textbox(FLOWER, label=i18n("features"), elem_id="features")
        for slider in sliders:
            slider.change(None, sliders, features, js="(a, b, c, d) => [a, b, c, d].join(',')")
        with gr.Tabs():
            with gr.Tab(i18n("tab.predict")):
                _predict_tab(i18n, protocol, features, predict, predict_digit)
            with gr.Tab(i18n("tab.compare")):
                _compare_tab(i18n, features, weights_box, compare_table)
            with gr.Tab(i18n("tab.strategies")):
                _strategies_tab(playground, i18n, protocol, features)
            with gr.Tab(i18n("tab.load")):
                _load_tab(playground, i18n, protocol, features)
    assert isinstance(page, gr.Blocks)
    return page


def _predict_tab(i18n: gr.I18n, protocol: Any, features: Any, predict: Any, digit: Any) -> None:
    predict_button = gr.Button(i18n("predict"), variant="primary", elem_id="predict")
    with gr.Row():
        sketch = gr.Sketchpad(label=i18n("digit"), type="pil", elem_id="sketch")
        upload = gr.Image(label=i18n("digit"), type="pil", elem_id="upload")
    with gr.Row():
        digit_button = gr.Button(i18n("predict_digit"), elem_id="predict-digit")
        upload_button = gr.Button(i18n("predict_digit"), elem_id="predict-upload")
    probabilities = gr.Label(label=i18n("probabilities"), elem_id="probabilities")
    summary = gr.Markdown(elem_id="summary")
    with gr.Row():
        sent = gr.Code(label=i18n("request"), elem_id="wire-request")
        received = gr.Code(label=i18n("response"), elem_id="wire-response")
    outputs = [probabilities, summary, sent, received]
    predict_button.click(predict, [protocol, features], outputs, api_name="predict")
    digit_button.click(digit, [protocol, sketch], outputs, api_name="predict_digit")
    upload_button.click(digit, [protocol, upload], outputs, api_visibility="private")


def _compare_tab(i18n: gr.I18n, features: Any, weights: Any, compare_table: Any) -> None:
    gr.Markdown(i18n("compare_help"))
    compare_button = gr.Button(i18n("compare"), variant="primary", elem_id="compare")
    table = gr.Dataframe(elem_id="compare-table", wrap=True)
    with gr.Accordion(i18n("ondevice_json"), open=False):
        on_device = gr.Textbox(elem_id="on-device", show_label=False)
    compare_button.click(None, [features, weights], on_device, js=PREDICT_JS).then(
        compare_table, [features, on_device], table, api_visibility="private"
    )
    gr.api(_compare_api(compare_table), api_name="compare")  # type: ignore[attr-defined]


def _compare_api(table: Any) -> Any:
    def compare(features: str) -> list[list[str | float]]:
        """The same flower over every protocol: [protocol, label, ms, request, response bytes]."""
        frame: pd.DataFrame = table(features, "", None)
        return [[str(a), str(b), float(c), float(d), float(e)] for a, b, c, d, e in frame.values]

    return compare


def _status_frame(playground: Playground, protocol: str, model: str) -> tuple[pd.DataFrame, str]:
    status = playground.strategy(protocol, model)
    rows = [[s.version, s.calls, s.errors, round(s.latency_ms_mean, 3), s.shadow_calls,
             round(s.reward_mean, 3)] for s in status.stats]  # fmt: skip
    columns = ["version", "calls", "errors", "latency_ms_mean", "shadow_calls", "reward_mean"]
    config = status.strategy
    text = f"`{config.kind}` {config.versions or ''} {status.event or ''}"
    return pd.DataFrame(rows, columns=columns), text


def _strategies_tab(playground: Playground, i18n: gr.I18n, protocol: Any, features: Any) -> None:
    with gr.Row():
        model = gr.Dropdown(["iris", "digits"], value="iris", label=i18n("model"))
        kind = gr.Radio(KINDS, value="ab", label=i18n("kind"), elem_id="kind")
    with gr.Row():
        versions = gr.Textbox("1,2", label=i18n("versions"))
        weights = gr.Textbox("", label=i18n("weights"))
        percent = gr.Slider(0, 100, value=10, step=1, label=i18n("canary_percent"))
    apply = gr.Button(i18n("apply"), elem_id="apply-strategy")
    gr.Markdown(i18n("status"))
    described = gr.Markdown(elem_id="strategy")
    counts = gr.Dataframe(elem_id="strategy-counts")
    size = gr.Slider(1, MAX_BURST, value=100, step=1, label=i18n("burst_size"))
    burst = gr.Button(i18n("burst"), elem_id="burst")
    timer = gr.Timer(2.0)

    def refresh(protocol: str, model: str) -> tuple[pd.DataFrame, str]:
        return _status_frame(playground, protocol, model)

    def set_strategy(
        protocol: str, model: str, kind: str, versions: str, weights: str, percent: float,
        request: gr.Request,
    ) -> tuple[pd.DataFrame, str]:  # fmt: skip
        try:
            config = StrategyConfig(
                kind=kind,  # type: ignore[arg-type]
                versions=[v.strip() for v in versions.split(",") if v.strip()],
                weights=[float(w) for w in weights.split(",") if w.strip()],
                canary_percent=percent,
            )
            playground.set_strategy(protocol, model, config)
        except (ClientError, ValueError) as error:
            raise gr.Error(say(_lang(request), "bad_strategy", message=str(error))) from error
        return refresh(protocol, model)

    def send_burst(
        protocol: str, model: str, features: str, n: float, request: gr.Request
    ) -> Iterator[tuple[pd.DataFrame, str]]:
        values = _features(features, _lang(request))
        for done, _ in enumerate(playground.burst(protocol, values, int(n)), start=1):
            if done % 25 == 0:
                yield refresh(protocol, model)
        yield refresh(protocol, model)

    inputs = [protocol, model, kind, versions, weights, percent]
    apply.click(set_strategy, inputs, [counts, described], api_visibility="private")
    burst.click(send_burst, [protocol, model, features, size], [counts, described],
                api_visibility="private")  # fmt: skip
    timer.tick(refresh, [protocol, model], [counts, described], api_visibility="private")


def _load_tab(playground: Playground, i18n: gr.I18n, protocol: Any, features: Any) -> None:
    size = gr.Slider(10, MAX_BURST, value=200, step=10, label=i18n("burst_size"))
    send = gr.Button(i18n("send"), elem_id="load")
    gr.Markdown(i18n("histogram"))
    chart = gr.BarPlot(x="ms", y="count", elem_id="histogram")
    said = gr.Markdown(elem_id="load-summary")

    def run(
        protocol: str, features: str, n: float, request: gr.Request
    ) -> Iterator[tuple[pd.DataFrame, str]]:
        lang = _lang(request)
        latencies: list[float] = []
        for ms in playground.burst(protocol, _features(features, lang), int(n)):
            latencies.append(ms)
            if len(latencies) % 20 == 0 or len(latencies) == int(n):
                yield _histogram(latencies), _load_text(lang, protocol, latencies, int(n))

    send.click(run, [protocol, features, size], [chart, said], api_visibility="private")


def _histogram(latencies: list[float]) -> pd.DataFrame:
    good = sorted(v for v in latencies if v == v)
    if not good:
        return pd.DataFrame({"ms": [], "count": []})
    low, high = good[0], good[-1]
    width = (high - low) / HISTOGRAM_BINS or 1.0
    counts = [0] * HISTOGRAM_BINS
    for value in good:
        counts[min(int((value - low) / width), HISTOGRAM_BINS - 1)] += 1
    edges = [f"{low + i * width:.2f}" for i in range(HISTOGRAM_BINS)]
    return pd.DataFrame({"ms": edges, "count": counts})


def _load_text(lang: str, protocol: str, latencies: list[float], n: int) -> str:
    good = sorted(v for v in latencies if v == v)

    def rank(q: float) -> str:
        return f"{good[max(0, math.ceil(q * len(good)) - 1)]:.2f}" if good else "—"

    return say(lang, "load_summary", done=len(latencies), n=n, protocol=protocol,
               p50=rank(0.5), p99=rank(0.99), errors=len(latencies) - len(good))  # fmt: skip
