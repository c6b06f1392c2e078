"""The admin's alert when a flow fails or crashes: what failed, why, and where to look."""

from __future__ import annotations

from datetime import datetime
from functools import cache

import jinja2

from thidua.config import Settings
from thidua.mailer import Email


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("thidua", "templates"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template("alert.txt.j2")


def failure_alert(settings: Settings, flow_name: str, run_name: str, state_name: str,
                  error: str, url: str | None, at: datetime) -> Email:
    crashed = state_name.lower() == "crashed"
    verb = "dừng đột ngột" if crashed else "thất bại"
    return Email(
        to=[settings.admin["email"]],
        subject=f"[thidua] Luồng {flow_name} {verb}: {run_name}",
        text=_template().render(flow_name=flow_name, run_name=run_name, state_name=state_name,
                                error=error.strip() or "(không có thông báo lỗi)", url=url,
                                at=at, crashed=crashed, sender=settings.sender["name"]))
