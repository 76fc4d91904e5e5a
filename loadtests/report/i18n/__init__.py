"""Message catalogues and locale-aware number formatting for the report.

One template, two catalogues: ``es`` (the course's language, the default) and ``en``. A message
is a ``str.format`` pattern; numbers are formatted by the caller with :meth:`Locale.num` so the
catalogue never decides how many decimals a measurement deserves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from loadtests.report.i18n.en import MESSAGES as ENGLISH
from loadtests.report.i18n.es import MESSAGES as SPANISH
from protobench.protocols import specs

# A protocol's spec may bring its own report texts (its note), per language.
CATALOGUES: dict[str, Mapping[str, str]] = {
    lang: {**messages, **{k: v for s in specs() for k, v in s.report.texts.get(lang, {}).items()}}
    for lang, messages in (("es", SPANISH), ("en", ENGLISH))
}
LANGUAGES = tuple(CATALOGUES)
_SEPARATORS = {"es": (".", ","), "en": (",", ".")}  # (thousands, decimal)


@dataclass(frozen=True)
class Locale:
    lang: str

    def __post_init__(self) -> None:
        if self.lang not in CATALOGUES:
            raise ValueError(
                f"unknown language {self.lang!r}; choose one of {', '.join(LANGUAGES)}"
            )

    def t(self, key: str, **values: object) -> str:
        """The message ``key`` with ``values`` filled in (already formatted by the caller)."""
        return CATALOGUES[self.lang][key].format(**values)

    def has(self, key: str) -> bool:
        return key in CATALOGUES[self.lang]

    def num(self, value: float | None, digits: int = 0) -> str:
        """``1234.5`` -> ``1,234.5`` (en) or ``1.234,5`` (es); missing values -> an en dash."""
        if value is None or math.isnan(value) or math.isinf(value):
            return "–"
        thousands, decimal = _SEPARATORS[self.lang]
        text = f"{value:,.{digits}f}"
        return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)

    def auto(self, value: float | None) -> str:
        """A measurement with about three significant figures (``0.412``, ``41.2``, ``4,120``)."""
        if value is None or math.isnan(value) or value == 0:
            return self.num(value)
        magnitude = math.floor(math.log10(abs(value)))
        return self.num(value, max(0, 2 - magnitude) if magnitude < 2 else 0)

    def pct(self, share: float | None, digits: int = 0) -> str:
        """A 0..1 share as a percentage, with the locale's spacing (``42 %`` in both)."""
        if share is None or math.isnan(share):
            return "–"
        return f"{self.num(share * 100.0, digits)}\u00a0%"

    def ratio(self, value: float | None) -> str:
        """``3.2×``."""
        return f"{self.auto(value)}×"
