"""The two catalogues say the same things, and numbers read the way each locale writes them."""

from __future__ import annotations

import math
import string

import pytest

from loadtests.report.i18n import CATALOGUES, Locale


def _placeholders(pattern: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(pattern) if name}


def test_catalogues_have_the_same_keys() -> None:
    assert set(CATALOGUES["es"]) == set(CATALOGUES["en"])


def test_messages_take_the_same_placeholders() -> None:
    differ = {
        key: (_placeholders(CATALOGUES["es"][key]), _placeholders(english))
        for key, english in CATALOGUES["en"].items()
        if _placeholders(CATALOGUES["es"][key]) != _placeholders(english)
    }
    assert differ == {}


@pytest.mark.parametrize(
    ("lang", "value", "digits", "text"),
    [
        ("es", 1234.5, 1, "1.234,5"),
        ("en", 1234.5, 1, "1,234.5"),
        ("es", 1234567.0, 0, "1.234.567"),
        ("en", 0.25, 2, "0.25"),
        ("es", 0.25, 2, "0,25"),
        ("en", math.nan, 1, "–"),
    ],
)
def test_numbers_are_formatted_for_the_locale(
    lang: str, value: float, digits: int, text: str
) -> None:
    assert Locale(lang).num(value, digits) == text


def test_measurements_keep_three_significant_figures() -> None:
    en = Locale("en")
    assert [en.auto(v) for v in (0.41234, 4.1234, 41.234, 4123.4)] == [
        "0.412",
        "4.12",
        "41.2",
        "4,123",
    ]
    assert Locale("es").pct(0.123) == "12\u00a0%"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="choose one of es, en"):
        Locale("fr")
