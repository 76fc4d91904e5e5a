"""``protobench report``: turn bench results into one self-contained page (or Markdown).

from loadtests.report import write_report
write_report(Path("results"), Path("report.html"), lang="es")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loadtests.report.i18n import LANGUAGES, Locale

FORMATS = ("html", "md")


def render(results: Path | Sequence[Path], lang: str = "es", fmt: str = "html") -> str:
    """The report's text for one or more runs (folders, results.json files, or an out dir
    whose newest run is taken)."""
    # here, not at the top: every command line imports this package for its choices, and the
    # page's statistics (scipy) cost seconds of each server's start
    from loadtests.report.build import load
    from loadtests.report.markdown import render_markdown
    from loadtests.report.page import build_page
    from loadtests.report.template import render_html

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    paths = [results] if isinstance(results, Path) else list(results)
    page = build_page(load(paths), Locale(lang))
    return render_html(page) if fmt == "html" else render_markdown(page)


def write_report(
    results: Path | Sequence[Path], out: Path, lang: str = "es", fmt: str = "html"
) -> Path:
    """Write the report to ``out`` and return its path."""
    text = render(results, lang, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


__all__ = ["FORMATS", "LANGUAGES", "render", "write_report"]
