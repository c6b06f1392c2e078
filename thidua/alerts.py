"""The admin's alert when a flow fails or crashes: what failed, why, and where to look."""

from __future__ import annotations

from datetime import datetime

from thidua.calendar import format_time_vi
from thidua.config import Config
from thidua.emails import render
from thidua.mailbox import ALERT_HEADER
from thidua.mailer import Email
from thidua.settings import Settings


def failure_alert(
    settings: Settings,
    flow_name: str,
    run_name: str,
    state_name: str,
    error: str,
    url: str | None,
    at: datetime,
) -> Email:
    crashed = state_name.lower() == "crashed"
    verb = "dừng đột ngột" if crashed else "thất bại"
    return Email(
        to=[settings.admin.email],
        headers={ALERT_HEADER: "1"},  # left in the mailbox's INBOX (`mailbox.classify`)
        subject=f"[thidua] Luồng {flow_name} {verb}: {run_name}",
        text=render(
            "alert.txt.j2",
            html=False,
            context={
                "flow_name": flow_name,
                "run_name": run_name,
                "state_name": state_name,
                "error": error.strip() or "(không có thông báo lỗi)",
                "url": url,
                "at_vi": format_time_vi(at.astimezone(settings.calendar.tz)),
                "crashed": crashed,
                "sender": settings.sender.name,
            },
        ),
    )


def mail_failure_alert(settings: Settings, failing: list[dict], at: datetime) -> Email:
    """Tell the admin which units' mail keeps failing, so someone checks the address or
    the mail server; thidua keeps retrying meanwhile."""
    return Email(
        to=[settings.admin.email],
        headers={ALERT_HEADER: "1"},  # left in the mailbox's INBOX (`mailbox.classify`)
        subject=f"[thidua] {len(failing)} thư gửi đơn vị chưa đi được sau nhiều lần thử",
        text=render(
            "mail_failures.txt.j2",
            html=False,
            context={
                "failing": failing,
                "at": at.astimezone(settings.calendar.tz),
                "sender": settings.sender.name,
            },
        ),
    )


def mailbox_alert(
    cfg: Config, quarantine_folder: str, quarantined: list[dict], bounced: list[dict]
) -> Email:
    """The officer's note after a collection from the mailbox: mail moved to the
    quarantine folder (sender not verified, nothing readable) and addresses of units
    that bounced a reminder or acknowledgment."""
    context = {
        "admin": cfg.settings.admin,
        "folder": quarantine_folder,
        "quarantined": quarantined,
        "bounced": bounced,
        "names": {u.code: u.name for u in cfg.units},
    }
    counts = [
        f"{len(quarantined)} thư cần kiểm tra" if quarantined else "",
        f"{len(bounced)} địa chỉ bị trả lại thư" if bounced else "",
    ]
    return Email(
        to=[cfg.settings.admin.email],
        headers={ALERT_HEADER: "1"},
        subject="[thidua] Hộp thư: " + ", ".join(filter(None, counts)),
        text=render("mailbox.txt.j2", html=False, context=context),
    )
