"""A flag as the page shows it: its key (the CSS class), its word and why it was raised."""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.report.i18n import Locale


@dataclass(frozen=True)
class Flag:
    key: str
    label: str
    explain: str


def flag(key: str, loc: Locale) -> Flag:
    label = loc.t(f"flag.{key}") if loc.has(f"flag.{key}") else key
    explain = loc.t(f"flag.{key}.explain") if loc.has(f"flag.{key}.explain") else ""
    return Flag(key, label, explain)
