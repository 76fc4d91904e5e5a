"""The Markdown summary: the headline table, every chart's reading, the manifest.

For slides and lecture notes; the charts themselves live in the HTML page.
"""

from __future__ import annotations

from loadtests.report.lecture import LectureRow
from loadtests.report.page import Page, Row

LECTURE_TEXT = ("protocol", "year", "formats", "feature", "payload", "transport", "contract",
                "streaming", "config")  # fmt: skip
LECTURE_NUMBERS = ("rps", "p50", "p99", "request_bytes", "response_bytes", "generator_us",
                   "server_us")  # fmt: skip


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(row: Row) -> str:
    rps = row.rps + (f" ({row.rps_ci})" if row.rps_ci else "")
    flags = ", ".join(f.label for f in row.flags) or "–"
    values = [
        row.protocol,
        row.replicas,
        row.load,
        row.batch,
        rps,
        row.p50,
        row.p99,
        row.p999,
        row.errors,
        row.request_bytes,
        row.response_bytes,
        row.server_us,
        row.capacity + (f" ({row.capacity_ci})" if row.capacity_ci else ""),
        row.generator_ratio,
        row.generator_share,
        flags,
    ]
    return "| " + " | ".join(_cell(v) for v in values) + " |"


def _lecture_row(row: LectureRow, config: bool) -> str:
    """One protocol; without a configuration column an unmeasured row explains itself in the
    req/s cell."""
    name = row.protocol + ("\\*" if not row.in_lecture else "")
    text = [name, row.year, row.formats, row.feature, row.payload, row.transport, row.contract,
            row.streaming]  # fmt: skip
    if row.measured is None:
        numbers = [row.absent_short] * len(LECTURE_NUMBERS)
        if config:
            text.append(row.absent)
        else:
            numbers[0] = row.absent
    else:
        m = row.measured
        numbers = [getattr(m, k) for k in LECTURE_NUMBERS]
        if m.flags:  # beside req/s, as on the page
            numbers[0] += " (" + ", ".join(f.label for f in m.flags) + ")"
        if config:
            text.append(m.config)
    return "| " + " | ".join(_cell(v) for v in (*text, *numbers)) + " |"


def _lecture(page: Page) -> list[str]:
    t, table = page.t, page.lecture
    config = not table.shared
    text = [k for k in LECTURE_TEXT if config or k != "config"]
    header = [t(f"lecture.col.{k}") for k in text]
    header += [t("lecture.col.rps"), "p50 ms", "p99 ms"]
    header += [t(f"lecture.col.{k}") for k in LECTURE_NUMBERS[3:]]
    lines = [f"## {t('section.lecture')}", "", t("lecture.intro"), ""]
    if table.shared:
        lines += [table.shared, ""]
    lines += ["| " + " | ".join(header) + " |",
              "|" + "---|" * len(text) + "---:|" * len(LECTURE_NUMBERS)]  # fmt: skip
    lines += [_lecture_row(row, config) for row in table.rows]
    if table.footnote:
        lines += ["", t("lecture.not_in_lecture").replace("*", "\\*", 1)]
    if table.mixed:
        lines += ["", f"> {table.mixed}"]
    return [*lines, ""]


def render_markdown(page: Page) -> str:
    t = page.t
    header = [
        t("col.protocol"),
        t("col.replicas"),
        t("col.load"),
        t("col.batch"),
        t("col.rps"),
        "p50 ms",
        "p99 ms",
        t("col.p999"),
        t("col.errors"),
        t("col.request_bytes"),
        t("col.response_bytes"),
        t("col.server_us"),
        t("col.capacity"),
        t("col.generator_ratio"),
        t("col.generator_share"),
        t("col.flags"),
    ]
    lines = [f"# {page.title}", "", page.subtitle, ""]
    lines += [f"> {caveat}" for caveat in page.caveats]
    lines += ["", *_lecture(page)]
    lines += [
        f"## {t('section.results')}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += [_row(row) for row in page.rows]
    lines += ["", t("results.capacity")]
    if page.cross_checks:
        lines += ["", f"### {t('section.crosscheck')}", "", t("crosscheck.intro"), ""]
        lines += ["| " + " | ".join([t("col.protocol"), t("col.load"), t("col.locust_rps"),
                                     t("col.native_rps"), t("col.difference"),
                                     t("col.generator_ratio")]) + " |",
                  "|---|---|---:|---:|---:|---:|"]  # fmt: skip
        lines += [f"| {c.protocol} | {c.load} | {c.locust_rps} | {c.native_rps} | "
                  f"{c.difference} | {c.generator_ratio} |" for c in page.cross_checks]  # fmt: skip
    lines += ["", f"## {t('section.charts')}", ""]
    for figure in page.figures:
        lines += [f"### {figure.title}", "", figure.reading, ""]
    lines += [f"## {t('section.notes')}", ""]
    for note in page.notes:
        lines += [f"### {note.title}", "", note.text, ""]
        if note.evidence:
            lines += [f"*{t('notes.in_this_run')}* {note.evidence}", ""]
    lines += [f"## {t('section.manifest')}", ""]
    for items in page.manifests:
        lines += [f"- **{key}**: {_cell(value)}" for key, value in items] + [""]
    return "\n".join(lines)
