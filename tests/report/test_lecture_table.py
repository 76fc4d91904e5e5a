"""The lecture's protocol table: its numbers are the run's, its words the specs', and a
protocol the run did not measure says so instead of showing a number."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from loadtests.report import render
from loadtests.report.i18n import Locale
from protobench.protocols import SPECS

NUMBER_CELLS = {  # td class -> how to read the value from one results.json cell
    "rps": lambda c: c["requests_per_s"],
    "p50": lambda c: c["latency_ms"]["p50"],
    "p99": lambda c: c["latency_ms"]["p99"],
    "request-bytes": lambda c: c["wire_bytes"]["request"]["total"],
    "response-bytes": lambda c: c["wire_bytes"]["response"]["total"],
    "generator-us": lambda c: c["cpu"]["generator_us_per_request"],
    "server-us": lambda c: c["cpu"]["server_us_per_request"],
}
AUTO = ("p50", "p99")  # shown with about three significant figures; the rest as integers


def _reference_cells(cells: list[dict[str, Any]], protocol: str) -> list[dict[str, Any]]:
    """The repeats of the protocol's headline configuration, read straight from the results:
    closed loop, fewest replicas, smallest batch, most users."""
    closed = [c for c in cells if c["protocol"] == protocol and c["rate"] is None]
    replicas = min(c["replicas"] for c in closed)
    batch = min(c["batch"] for c in closed if c["replicas"] == replicas)
    same = [c for c in closed if c["replicas"] == replicas and c["batch"] == batch]
    users = max(c["users"] for c in same)
    return [c for c in same if c["users"] == users]


def _expected(cells: list[dict[str, Any]], key: str, loc: Locale) -> str:
    value = statistics.median(NUMBER_CELLS[key](c) for c in cells)
    return loc.auto(value) if key in AUTO else loc.num(value)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_table_holds_the_runs_measured_values(results: Path, lang: str) -> None:
    loc = Locale(lang)
    cells = json.loads(results.read_text())["cells"]
    measured = {c["protocol"] for c in cells}
    page = lxml.html.fromstring(render(results, lang))
    for name, spec in SPECS.items():
        row = page.get_element_by_id(f"lecture-{name}")
        assert row.find_class("proto")[0].text_content().startswith(spec.report.label)
        if name in measured:
            reference = _reference_cells(cells, name)
            shown = {key: row.find_class(key)[0].text_content() for key in NUMBER_CELLS}
            assert shown == {key: _expected(reference, key, loc) for key in NUMBER_CELLS}, name
            users = loc.t("load.closed", users=reference[0]["users"])
            assert users in row.text_content() + page.find_class("shared-config")[0].text_content()
            flags = {f for c in reference for f in c.get("flags", [])}
            shown_flags = {span.text_content() for span in row.find_class("flag")}
            assert shown_flags == {loc.t(f"flag.{f}") for f in flags}, name
        else:
            assert not row.find_class("num"), f"{name} was not measured, yet shows numbers"
            absent = row.find_class("absent")[0].text_content()
            assert absent.startswith(loc.t("lecture.not_measured", command="").split(";")[0])
            assert f"protobench bench --protocols {name}" in absent
        if spec.traits is not None:
            words = [spec.traits.feature[lang], spec.traits.payload]
            words += [spec.traits.formats[lang]] if spec.traits.formats else []
            assert all(w in row.text_content() for w in words), name


def test_markdown_rows_carry_the_same_numbers(results: Path) -> None:
    loc = Locale("en")
    cells = json.loads(results.read_text())["cells"]
    markdown = render(results, "en", "md")
    for label, name in (("gRPC", "grpc"), ("REST", "rest")):
        line = next(line for line in markdown.splitlines() if line.startswith(f"| {label} | "))
        shown = [cell.strip() for cell in line.strip("|").split("|")][-len(NUMBER_CELLS) :]
        reference = _reference_cells(cells, name)
        flags = [loc.t(f"flag.{f}") for f in sorted({f for c in reference for f in c["flags"]})]
        rps = _expected(reference, "rps", loc) + (f" ({', '.join(flags)})" if flags else "")
        assert shown == [rps, *(_expected(reference, k, loc) for k in list(NUMBER_CELLS)[1:])]
    soap = next(line for line in markdown.splitlines() if line.startswith("| SOAP |"))
    shown = [cell.strip() for cell in soap.strip("|").split("|")][-len(NUMBER_CELLS) :]
    assert shown[0].startswith("Not measured in this run; `protobench bench --protocols soap`")
    assert shown[1:] == ["not measured"] * (len(NUMBER_CELLS) - 1)


def test_a_protocol_with_no_successful_request_shows_no_number(
    results: Path, tmp_path: Path
) -> None:
    document = json.loads(results.read_text())
    nan = {k: math.nan for k in ("p50", "p90", "p99", "p999", "max", "mean")}
    for cell in document["cells"]:
        if cell["protocol"] == "jsonrpc":
            cell.update(requests_per_s=0.0, latency_ms=nan, latency_corrected_ms=dict(nan))
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document))
    row = lxml.html.fromstring(render(path, "en")).get_element_by_id("lecture-jsonrpc")
    assert not row.find_class("num")
    assert "no request succeeded" in row.find_class("absent")[0].text_content()


def test_rows_measured_in_different_configurations_say_so(results: Path, tmp_path: Path) -> None:
    document = json.loads(results.read_text())
    document["cells"] = [
        c for c in document["cells"] if not (c["protocol"] == "grpc" and c["users"] == 16)
    ]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document))
    page = lxml.html.fromstring(render(path, "en"))
    assert not page.find_class("shared-config")
    assert (
        "not all measured in the same configuration"
        in page.get_element_by_id("lecture").text_content()
    )
    grpc = page.get_element_by_id("lecture-grpc").text_content()
    rest = page.get_element_by_id("lecture-rest").text_content()
    assert "4 users" in grpc and "16 users" in rest


def test_each_payload_of_the_reference_configuration_gets_its_row(
    results: Path, tmp_path: Path
) -> None:
    """REST asked for XML answers (`--payload iris-xml`) beside JSON: a row each, own numbers."""
    document = json.loads(results.read_text())
    json_cells = _reference_cells(document["cells"], "rest")
    xml_cells = json.loads(json.dumps(json_cells))
    for cell in xml_cells:
        cell.update(payload="iris-xml", cell_id=cell["cell_id"] + "-xml")
        cell["wire_bytes"]["response"]["total"] *= 2
        cell["requests_per_s"] /= 2
    document["cells"] += xml_cells
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document))
    loc = Locale("en")
    page = lxml.html.fromstring(render(path, "en"))
    for suffix, cells in (("iris", json_cells), ("iris-xml", xml_cells)):
        row = page.get_element_by_id(f"lecture-rest-{suffix}")
        assert row.find_class("proto")[0].text_content() == f"REST · {suffix}"
        for key in ("rps", "response-bytes", "request-bytes"):
            assert row.find_class(key)[0].text_content() == _expected(cells, key, loc)
    assert "16 users · iris-xml" in page.get_element_by_id("results").text_content()
    shared = page.find_class("shared-config")[0].text_content()  # the payload is in the rows
    assert "16 users" in shared and "payload" not in shared
    assert page.get_element_by_id("lecture-grpc-iris") is not None  # every row names its own


def test_the_chart_places_each_protocol_by_its_measured_bytes_and_cpu(results: Path) -> None:
    loc = Locale("en")
    cells = json.loads(results.read_text())["cells"]
    cost = {}  # name -> (bytes per call both ways, server µs per call), from the raw cells
    for name in {c["protocol"] for c in cells}:
        reference = _reference_cells(cells, name)
        wire = statistics.median(
            c["wire_bytes"]["request"]["total"] + c["wire_bytes"]["response"]["total"]
            for c in reference
        )
        cost[name] = (
            wire,
            statistics.median(NUMBER_CELLS["server-us"](c) for c in reference),
        )
    page = lxml.html.fromstring(render(results, "en"))
    figure = page.get_element_by_id("fig-lecture")
    labels = {name: SPECS[name].report.label for name in cost}
    assert {t.text_content() for t in figure.iter("text")} >= set(labels.values())  # each point
    light = min(cost, key=lambda p: cost[p][0])
    dear = max(cost, key=lambda p: cost[p][1])
    traits = SPECS[light].traits
    assert traits is not None
    reading = figure.find_class("reading")[0].text_content()
    assert f"{labels[light]} ({traits.payload}) put the fewest" in reading
    assert f"{loc.num(cost[light][0])} B;" in reading
    assert f"the most on {labels[dear]}, {loc.num(cost[dear][1])} µs" in reading


def test_a_protocol_run_only_as_a_scaling_lesson_is_not_shown_as_measured(
    results: Path, tmp_path: Path
) -> None:
    """The capacity-limited model's costs are set by its options: not the protocol's numbers."""
    document = json.loads(results.read_text())
    for cell in document["cells"]:
        if cell["protocol"] == "grpc":
            cell.update(model_workers=1, model_service_ms=10.0)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document))
    row = lxml.html.fromstring(render(path, "en")).get_element_by_id("lecture-grpc")
    assert not row.find_class("num")
    assert "capacity-limited model" in row.find_class("absent")[0].text_content()


def test_the_queue_note_quotes_the_runs_latencies(results: Path, tmp_path: Path) -> None:
    """MQTT's note (from its spec) sets the extra hop's median latency beside REST's."""
    document = json.loads(results.read_text())
    queued = json.loads(json.dumps(_reference_cells(document["cells"], "jsonrpc")))
    for cell in queued:  # a run's cells, recorded as if they had gone through the queue
        cell.update(protocol="mqtt", cell_id=cell["cell_id"].replace("jsonrpc", "mqtt"))
    document["cells"] += queued
    path = tmp_path / "results.json"
    path.write_text(json.dumps(document))
    loc = Locale("en")
    evidence = lxml.html.fromstring(render(path, "en")).get_element_by_id("note-queue")
    rest = _expected(_reference_cells(document["cells"], "rest"), "p50", loc)
    mqtt = _expected(queued, "p50", loc)
    assert f"a median {rest} ms with REST and {mqtt} ms through the queue" in (
        evidence.find_class("evidence")[0].text_content()
    )
