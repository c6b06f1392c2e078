"""The rollup sent to the tier above by email: the docx report and the xlsx workbook
attached, and the package for that tier (its workbook and manifest, `thidua.package`)
when the rollup wrote one, so the province collects it from its mailbox as sent.

Off by default: the docx still needs its number and signature before it is official,
so flows send only when asked (`send_email=True`); without SMTP settings the mailer
writes the message to the outbox instead."""

from __future__ import annotations

from thidua.mailer import Email, Sent, send_one
from thidua.rollup.model import number_vi
from thidua.rollup.result import RollupResult
from thidua.workspace import Workspace


def report_email(ws: Workspace, result: RollupResult) -> Email:
    from thidua.emails import movements, render

    s = ws.config.settings
    names = movements(s.commune)
    package = [result.files[k] for k in ("package", "manifest") if k in result.files]
    context = {
        "office": s.province_office,
        "commune": s.commune,
        "sender": s.sender,
        "movements": names["movements"],
        "h": result.headline,
        "rollup_id": result.rollup_id,
        "docx": result.files["docx"].name,
        "xlsx": result.files["xlsx"].name,
        "package": [p.name for p in package],
        "tier": s.tier,
        "number": number_vi,
    }
    subject = (
        f"[{names['movement_short']}] {s.commune.authority_short}: báo cáo tổng "
        f"hợp – {result.headline['title']} ({result.rollup_id})"
    )
    return Email(
        to=[s.province_office.email],
        subject=subject,
        text=render("report.txt.j2", False, context),
        attachments=[
            (p.name, p.read_bytes()) for p in (result.files["docx"], result.files["xlsx"], *package)
        ],
    )


def send_report(ws: Workspace, result: RollupResult) -> Sent:
    """Send (or, without SMTP settings, write to the outbox) the report email."""
    return send_one(ws.config.settings, ws.paths.outbox, report_email(ws, result))
