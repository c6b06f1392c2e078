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

from thidua import words
from thidua.calendar import format_date_vi, format_day_vi, format_time_vi
from thidua.settings import Commune


def lcfirst(text: str) -> str:
    """ "Báo cáo …" mid-sentence: the first letter lower-cased, the rest kept."""
    return text[:1].lower() + text[1:]


def report_name(title: str) -> str:
    """A cycle title as the thing a unit sends, mid-sentence: "báo cáo kết quả năm 2025",
    "báo cáo sơ kết giai đoạn 1 (2025–2027)", "kế hoạch thực hiện …"."""
    text = lcfirst(title)
    return text if text.startswith(("báo cáo", "kế hoạch")) else f"báo cáo {text}"


def movements(commune: Commune) -> dict[str, str]:
    """The movements of the plan, from settings [commune] `movements` (full names) and
    `movement_short` (the subject's form): `movements` as running text, `movement_short`."""
    full = " và ".join(f"Phong trào thi đua “{n}”" for n in commune.movements)
    return {"movements": full or "Phong trào thi đua", "movement_short": commune.movement_short}


@cache
def environment(html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("thidua", "templates/email"),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # date(d): "ngày 22/12/2025"; day(d): "Thứ Hai, ngày 22/12/2025"; short(d): 22/12/2025
    env.globals.update(
        date=format_day_vi,
        day=lambda d: format_day_vi(d, weekday=True),
        short=format_date_vi,
        time=format_time_vi,
        words=words,  # every code's word: words.OUTCOME[...], words.STAGE[...]
    )
    env.filters["lcfirst"] = lcfirst
    env.filters["report"] = report_name
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
        out[name] = (
            " ".join(text.split())
            if name == "subject"
            else [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]
        )
    return out


def render(template: str, html: bool, context: dict[str, Any]) -> str:
    return environment(html).get_template(template).render(context)
