"""Acknowledgment emails: one per submission, its outcome and every problem by cell.

Built from the warehouse rows (not from the batch in memory), so an acknowledgment
that failed is re-sent later with the same content.  Sent at most once: a submission
with a `sent` acknowledgment is never mailed again.

Each problem is told the way a clerk finds it: the indicator's name, "ô D12, trang Chỉ
tiêu", the value as read (Vietnamese format), what is wrong and how to fix it.  A file
that cannot be opened is answered too (to its unit's registered address when the mail
came from one, else to the mail's sender), with what to do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, tzinfo
from pathlib import Path

import pandas as pd

from thidua import layout, words
from thidua.config import Config, Cycle
from thidua.mailer import Email

# What the unit does next, after the outcome's word (`thidua.words.OUTCOME`)
NEXT_STEP = {
    "accepted": "Báo cáo đã được ghi nhận. Cảm ơn quý đơn vị.",
    "accepted_with_warnings": (
        "Báo cáo đã được ghi nhận. Đề nghị xem các mục dưới đây; nếu cần sửa, gửi lại "
        "tệp đã sửa (lần gửi sau sẽ thay lần này){due}."
    ),
    "rejected": "Báo cáo chưa được tính. Đề nghị sửa các lỗi dưới đây và gửi lại tệp{due}.",
    "unreadable": (
        "Báo cáo chưa được tính vì không mở được tệp. Đề nghị mở tệp bằng Excel "
        "hoặc LibreOffice Calc, bỏ mật khẩu nếu có, lưu lại thành tệp Excel dạng "
        ".xlsx (nên dùng đúng biểu mẫu đã gửi kèm thư mở kỳ báo cáo), rồi gửi "
        "lại{due}."
    ),
}
_CODE = re.compile(r"\b([A-Z]{2}\d{2})\b")


def where_vi(cell: str | None, sheet: str | None) -> str:
    """Where a problem is, in the clerk's words: "ô D12, trang Chỉ tiêu"."""
    if cell and "!" in cell:
        sheet, ref = cell.split("!", 1)
        if sheet == "CSV":
            return f"ô {ref}, tệp CSV"
        return f"ô {ref}, trang {layout.SHEET_TITLES.get(sheet, sheet)}"
    if sheet:
        return f"trang {layout.SHEET_TITLES.get(sheet, sheet)}"
    return "Cả tệp"


def indicator_of(cfg: Config, message: str) -> str | None:
    """ "Tên chỉ tiêu (mã)" of the first indicator a problem's message names."""
    names = {i.code: i.name_vi for i in cfg.indicators}
    for code in _CODE.findall(message or ""):
        if code in names:
            return f"{names[code]} (mã {code})"
    return None


def due_clause(cycle: Cycle | None, today: date) -> str:
    """Until when to resend: before the due date while it is ahead, "ngay" after it."""
    from thidua.calendar import format_day_vi

    if cycle is None:
        return " ngay"
    if today <= cycle.due:
        return f", chậm nhất trong {format_day_vi(cycle.due, weekday=True)}"
    return " ngay (đã quá hạn nộp)"


def documents_clause(cycle: Cycle | None, documents: list[str], online: bool = False) -> str | None:
    """Whether the unit's own document came: always said in a cycle that asks for it
    (`document: required`: the plan, the written sơ kết / tổng kết report), elsewhere
    only when a document came.  `online`: units have an upload page (the web is set up)."""
    names = ", ".join(f"“{n}”" for n in documents)
    if cycle is not None and cycle.document_required:
        name = cycle.document_vi
        if documents:
            return f"{name} của đơn vị: đã nhận ({names})."
        return (
            f"{name} của đơn vị: chưa nhận được. Đề nghị gửi {name.lower()} "
            "(tệp .docx hoặc .pdf) cùng biểu mẫu Excel, đính kèm cùng một thư"
            + (f", hoặc chọn ở ô “{name}” khi nộp trực tuyến." if online else ".")
        )
    if documents:
        return f"Tệp gửi kèm đã được lưu cùng báo cáo: {names}."
    return None


def ack_email(cfg: Config, row: dict, local_tz: tzinfo) -> Email | None:
    """The acknowledgment of one pending submission (a `pending_acks` row), or None when
    nobody can be answered (unknown unit, not sent by mail)."""
    from thidua import clock, emails
    from thidua.calendar import format_time_vi

    to = row["unit_email"] if isinstance(row["unit_email"], str) else answerable_sender(cfg, row)
    if not isinstance(to, str) or not to:
        return None
    cycle = cfg.cycles_by_id.get(row["cycle_id"]) if isinstance(row["cycle_id"], str) else None
    documents = [str(n) for n in row.get("documents", [])]
    verdict, next_step = _verdict(cycle, row["outcome"], documents), NEXT_STEP[row["outcome"]]
    now = clock.now(local_tz)
    received: datetime = pd.Timestamp(row["received_at"]).to_pydatetime()
    version = row["version"] if pd.notna(row["version"]) else None
    problems = [
        p
        | {
            "where": where_vi(p["cell"], p["sheet"]),
            "indicator": indicator_of(cfg, p["message_vi"]),
        }
        for p in row["problems"]
    ]
    context = {
        "unit_name": row["unit_name"] if isinstance(row["unit_name"], str) else "Quý đơn vị",
        "file": row["original_name"],
        "version": int(version) if version else None,
        "received": format_time_vi(received.astimezone(local_tz)),
        "cycle_title": cycle.title if cycle else None,
        "verdict": verdict,
        "next_step": next_step.format(due=due_clause(cycle, now.date())),
        "documents": documents_clause(cycle, documents, cfg.settings.web.links_enabled)
        if row["outcome"] != "unreadable"  # no report to keep them with
        else None,
        "n_errors": int(row["n_errors"]),
        "n_warnings": int(row["n_warnings"]),
        "problems": problems,
        "sender": cfg.settings.sender,
        "commune": cfg.settings.commune,
        **emails.movements(cfg.settings.commune),
    }
    title = cycle.title if cycle else "báo cáo thi đua"
    context["subject"] = (
        f"[{context['movement_short']}] {verdict}: {title} ({row['original_name']})"
    )
    subject: str = context["subject"]
    headers: dict[str, str] = {}
    their_id, their_subject = _text(row.get("message_id")), _text(row.get("subject"))
    if their_id and not unverified(row):  # a reply in the unit's own thread
        headers |= {"In-Reply-To": their_id, "References": their_id}
        subject = reply_subject(their_subject) if their_subject else subject
    return Email(
        to=[to],
        subject=subject,
        headers=headers,
        text=emails.render("ack.txt.j2", False, context),
        html=emails.render("ack.html.j2", True, context),
        auto_submitted="auto-replied",
        date=now,
    )


def _verdict(cycle: Cycle | None, outcome: str, documents: list[str]) -> str:
    """The outcome in words; a workbook without the document its cycle asks for (the
    plan, the written review) is taken with a note ("có lưu ý", issue 21)."""
    if outcome == "accepted" and cycle is not None and cycle.document_required and not documents:
        return words.OUTCOME["accepted_with_warnings"]
    return words.OUTCOME[outcome]


def resend_email(cfg: Config, resend: dict) -> Email | None:
    """The answer to a file sent again after it was accepted: received before, at what
    time, nothing to do.  To the unit's registered address (never a stranger's).
    `resend`: the resent file's `name` and `resent_at`, the accepted submission's
    `unit_code` and `received_at` (an `owed_resends` row)."""
    from thidua import clock, emails
    from thidua.calendar import format_time_vi

    code = resend["unit_code"]
    unit = cfg.units_by_code.get(code) if isinstance(code, str) else None
    if unit is None:
        return None
    tz = cfg.settings.calendar.tz
    before = pd.Timestamp(resend["received_at"]).to_pydatetime().astimezone(tz)
    again = pd.Timestamp(resend["resent_at"]).to_pydatetime().astimezone(tz)
    context = {
        "unit": unit,
        "sender": cfg.settings.sender,
        "name": resend["name"],
        "received": format_time_vi(again),
        "resent": words.RESENT.format(when=format_time_vi(before)),
    }
    short = emails.movements(cfg.settings.commune)["movement_short"]
    return Email(
        to=[unit.email],
        subject=f"[{short}] {words.OUTCOME['duplicate']}: {resend['name']}",
        text=emails.render("resent.txt.j2", False, context),
        auto_submitted="auto-replied",
        date=clock.now(tz),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def reply_subject(subject: str) -> str:
    """ "Re: <their subject>", without piling up Re: (or Vietnamese Outlook's "TL:")."""
    s = subject.strip()
    return s if s.lower().startswith(("re:", "tl:", "trả lời:")) else f"Re: {s}"


def unverified(row: dict) -> bool:
    """The mail failed sender verification: never answered to its sender, nor threaded."""
    from thidua.checks import SENDER_RULES

    return any(p["rule_id"] in SENDER_RULES for p in row["problems"])


def answerable_sender(cfg: Config, row: dict) -> str | None:
    """Who answers a file of an unknown unit: the mail's sender.  From the commune's
    mailbox only when that address is registered to a unit (a reply then reaches the
    unit, whoever forged the From), never an unverified stranger."""
    from thidua.checks import registered_senders

    sender = _text(row.get("sender"))
    if (
        sender
        and row.get("source") == "mailbox"
        and (sender not in registered_senders(cfg) or unverified(row))
    ):
        return None
    return sender


ACK_COLUMNS = ["submission_id", "status", "sent_at", "message_id", "error", "recipients"]


def send_acks(
    cfg: Config,
    outbox: Path,
    pending: pd.DataFrame,
    record: Callable[[dict], object] = lambda outcome: None,
) -> pd.DataFrame:
    """Send the acknowledgments of `pending` over one mailer; one result row each.

    Each outcome goes to `record` right after its SMTP transaction, so a crash can
    repeat at most the one message in flight.
    """
    from thidua.mailer import open_mailer

    rows = []
    with open_mailer(cfg.settings, outbox) as mailer:
        for row in pending.to_dict("records"):
            email = ack_email(cfg, row, cfg.settings.calendar.tz)
            sent = (
                asdict(mailer.send_one(email))
                if email is not None
                else {"status": "skipped", "error": "no recipient: unknown unit, not sent by mail"}
            )
            outcome = {c: sent.get(c) for c in ACK_COLUMNS} | {
                "submission_id": row["submission_id"]
            }
            record(outcome)
            rows.append(outcome)
    return pd.DataFrame(rows, columns=ACK_COLUMNS)
