"""The email a unit gets when the officer returns its report: the comment, and its
upload link to send the corrected version."""

from __future__ import annotations

from thidua.config import Config, Cycle, Unit
from thidua.emails import render
from thidua.mailer import Email


def returned_email(
    cfg: Config, unit: Unit, cycle: Cycle, version: int, comment: str, link: str | None
) -> Email:
    context = {
        "unit": unit,
        "cycle": cycle,
        "version": version,
        "comment": comment,
        "link": link,
        "sender": cfg.settings.sender,
    }
    return Email(
        to=[unit.email],
        subject=f"[{cycle.id}] Báo cáo của {unit.name} được trả lại để hoàn thiện",
        text=render("returned.txt.j2", False, context),
        html=render("returned.html.j2", True, context),
    )
