"""The rollup sent to Sở Nội vụ by email: the docx report and the xlsx workbook attached.

Off by default: the docx still needs its number and signature before it is official,
so flows send only when asked (`send_email=True`); without SMTP settings the mailer
writes the message to the outbox instead."""

from __future__ import annotations

from thidua.mailer import Email, SendResult, open_mailer
from thidua.rollup.model import number_vi
from thidua.rollup.result import RollupResult
from thidua.workspace import Workspace


def report_email(ws: Workspace, result: RollupResult) -> Email:
    from thidua.emails import movements

    s, h = ws.config.settings, result.headline
    names = movements(s.commune)
    text = (
        f"Kính gửi: {s.province_office.name},\n\n"
        f"{s.commune.authority} gửi kèm báo cáo tổng hợp kết quả thực hiện "
        f"{names['movements']} theo {s.commune.plan_ref}: {h['title']} (mã tổng hợp "
        f"{result.rollup_id}).\n\n"
        f"- Số đơn vị phải báo cáo: {h['expected']}; đã nộp: {h['submitted']} "
        f"({number_vi(h['reporting_rate'])}%); nộp đúng hạn: {h['on_time']} "
        f"({number_vi(h['on_time_rate'])}%); chưa nộp: {h['missing']}.\n"
        f"- Tệp đính kèm: {result.files['docx'].name} (báo cáo), "
        f"{result.files['xlsx'].name} (số liệu chi tiết).\n\n"
        f"Trân trọng,\n{s.sender.name}\n{s.sender.email}"
        f"{' · ' + s.sender.phone if s.sender.phone else ''}\n"
    )
    subject = (
        f"[{names['movement_short']}] {s.commune.authority_short}: báo cáo tổng "
        f"hợp – {h['title']} ({result.rollup_id})"
    )
    return Email(
        to=[s.province_office.email],
        subject=subject,
        text=text,
        attachments=[
            (p.name, p.read_bytes()) for p in (result.files["docx"], result.files["xlsx"])
        ],
    )


def send_report(ws: Workspace, result: RollupResult) -> SendResult:
    """Send (or, without SMTP settings, write to the outbox) the report email."""
    with open_mailer(ws.config.settings, ws.paths.outbox) as mailer:
        return mailer.send(report_email(ws, result))
