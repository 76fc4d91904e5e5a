"""The HTML page: one Jinja2 template (``templates/page.html``) for every language."""

from __future__ import annotations

import re

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from loadtests.report.page import Page

_ENVIRONMENT = Environment(
    loader=PackageLoader("loadtests.report", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

_CODE = re.compile(r"`([^`]+)`")


def _code(text: str) -> Markup:
    """Escape ``text`` and show its `backquoted` spans (commands, flags) as code."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


_ENVIRONMENT.filters["code"] = _code


def render_html(page: Page) -> str:
    return _ENVIRONMENT.get_template("page.html").render(page=page, t=page.t)
