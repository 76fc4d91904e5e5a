"""``protobench report``: turn bench results into one page an instructor can teach from."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    from loadtests.report import FORMATS, LANGUAGES

    report = commands.add_parser(
        "report",
        help="write the comparison report (HTML page or Markdown) from bench results",
        description="Read one or more runs of `protobench bench` (a results folder, a run "
        "folder or a results.json; a results folder means its newest run) and write one "
        "self-contained HTML page with tables, charts and teaching notes, or a Markdown "
        "summary. Runs with the same configuration count as repeats. The page opens with the "
        "lecture's protocol table (year, format type, most important feature, transport, "
        "contract, streaming) beside each protocol's measured req/s, p50/p99, bytes per call "
        "and generator and server CPU per call; a protocol the runs did not measure says so. "
        "See docs/report.md.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    report.add_argument("results", type=Path, nargs="+", help="bench results to report on")
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        help="file to write (default: report.<lang>.<format> next to the run)",
    )
    report.add_argument("--lang", choices=LANGUAGES, default="es", help="language of the page")
    report.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default="html",
        help="html: the full page; md: a Markdown summary",
    )
    report.set_defaults(run=run)


def _default_out(results: Path, lang: str, fmt: str) -> Path:
    from loadtests.results import load_run

    folder = results if results.is_dir() else results.parent
    if results.is_dir() and not (results / "results.json").exists():
        folder = folder / str(load_run(results)["run_id"])
    return folder / f"report.{lang}.{fmt}"


def run(args: argparse.Namespace) -> int:
    import sys

    from loadtests.report import write_report

    for path in args.results:
        if not path.exists():
            print(f"protobench report: {path} does not exist", file=sys.stderr)
            return 2
    try:
        out = args.out or _default_out(args.results[0], args.lang, args.fmt)
        written = write_report(args.results, out, args.lang, args.fmt)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"protobench report: cannot read the results: {exc}", file=sys.stderr)
        return 2
    print(f"report: {written.resolve()}")
    return 0
