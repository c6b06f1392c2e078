"""The admin's alert when a flow fails or crashes: what failed, why, and where to look."""

from __future__ import annotations

from datetime import datetime

from thidua.calendar import format_time_vi
from thidua.emails import render
from thidua.mailer import Email
from thidua.settings import Settings

# Why a mail went to the quarantine folder, for the officer (alert and artifact)
QUARANTINE_REASONS_VI = {
    "sender_mismatch": "người gửi không phải địa chỉ đã đăng ký của đơn vị",
    "sender_unauthenticated": "máy chủ thư không xác thực được người gửi (DKIM/SPF)",
    "unreadable": "không có tệp báo cáo đọc được",
}


def quarantine_reason_vi(reason: str | None) -> str:
    """ "sender_mismatch,unreadable" in the officer's words."""
    return "; ".join(QUARANTINE_REASONS_VI.get(r, r) for r in (reason or "").split(",") if r)


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
    cfg, quarantine_folder: str, quarantined: list[dict], bounced: list[dict]
) -> Email:
    """The officer's note after a collection from the mailbox: mail moved to the
    quarantine folder (sender not verified, nothing readable) and addresses of units
    that bounced a reminder or acknowledgment."""
    names = {u.code: u.name for u in cfg.units}
    lines = [f"Kính gửi {cfg.settings.admin.name},", ""]
    if quarantined:
        lines += [
            (
                f"{len(quarantined)} thư đã được chuyển vào thư mục “{quarantine_folder}” "
                "để kiểm tra:"
            ),
            "",
        ]
        for q in quarantined:
            why = quarantine_reason_vi(q["reason"])
            unit = f" — tệp ghi đơn vị {q['units']}" if q.get("units") else ""
            lines.append(
                f"- Từ {q['sender'] or '(không rõ)'}, tiêu đề “{q['subject'] or ''}”{unit}: {why}."
            )
        lines += [
            "",
            (
                "Đơn vị liên quan đã được báo qua địa chỉ đã đăng ký; không trả lời "
                "người gửi chưa được xác thực."
            ),
            "",
        ]
    if bounced:
        lines += [f"{len(bounced)} thư của hệ thống bị trả lại (địa chỉ không nhận được thư):", ""]
        for b in bounced:
            unit = b.get("unit_code")
            what = {
                "reminder": f"nhắc hạn {b.get('stage')} kỳ {b.get('cycle_id')}",
                "acknowledgment": f"thư báo nhận kỳ {b.get('cycle_id')}",
            }.get(b.get("answers"), "thư không rõ")
            lines.append(
                f"- {unit or '(không rõ đơn vị)'} {names.get(unit, '')}: địa chỉ "
                f"{b.get('recipient')} ({what}; {b.get('status') or ''} "
                f"{b.get('diagnostic') or ''}).".replace(" ;", ";")
            )
        lines += [
            "",
            ("Đề nghị liên hệ đơn vị và cập nhật địa chỉ trong danh sách đơn vị (units.csv)."),
        ]
    subject = "[thidua] Hộp thư: " + ", ".join(
        filter(
            None,
            [
                f"{len(quarantined)} thư cần kiểm tra" if quarantined else "",
                f"{len(bounced)} địa chỉ bị trả lại thư" if bounced else "",
            ],
        )
    )
    return Email(to=[cfg.settings.admin.email], subject=subject, text="\n".join(lines) + "\n")
