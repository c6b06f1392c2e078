"""Rendering emails to units from Jinja2 templates under `thidua/templates/email/`.

Two environments share the templates: plain text (no escaping) and HTML (autoescape).
A message template is a module of `{% set %}` parts (subject, paragraphs, lists)
rendered once as text; a text and an HTML layout then lay the same parts out, so the
two alternatives of a message always say the same thing.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from thidua.calendar import format_date_vi


@cache
def environment(html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("thidua", "templates/email"), autoescape=html,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.globals.update(date=format_date_vi, day=lambda d: format_date_vi(d, weekday=True))
    env.filters["lcfirst"] = lambda s: s[:1].lower() + s[1:]   # "Báo cáo …" mid-sentence
    return env


def parts(template: str, context: dict[str, Any]) -> dict[str, list[str] | str]:
    """The `{% set %}` parts of a message template, rendered as text.

    A part named `subject` is one line; any other part is a list of paragraphs or list
    items, split on blank lines.
    """
    module = environment(False).get_template(template).make_module(context)
    out: dict[str, list[str] | str] = {}
    for name, value in module.__dict__.items():
        if name.startswith("_") or not isinstance(value, str):
            continue
        text = value.strip()
        out[name] = " ".join(text.split()) if name == "subject" else [
            " ".join(block.split()) for block in text.split("\n\n") if block.strip()]
    return out


def render(template: str, html: bool, context: dict[str, Any]) -> str:
    return environment(html).get_template(template).render(context)
