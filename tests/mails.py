"""Mail as units send it, for the mailbox tests and bench: a workbook (and maybe a plan
document) attached, a Message-ID, what the commune's mail server says of the sender."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
AUTHSERV = "mx.phongdoanh.example"


def unit_mail(
    sender: str,
    attachments: list[tuple[str, bytes]],
    when: datetime,
    subject: str = "Báo cáo thi đua",
    to: str = "vhxh@phongdoanh.example",
    auth: list[str] | None = None,
    message_id: str | None = None,
) -> bytes:
    """A unit's mail; `auth`: Authentication-Results headers, topmost first."""
    msg = EmailMessage()
    for header in auth or []:
        msg["Authentication-Results"] = header
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2].strip(">"))
    msg.set_content("Kính gửi Phòng VHXH, đơn vị gửi báo cáo đính kèm.")
    for name, data in attachments:
        kind = (
            XLSX
            if name.endswith(".xlsx")
            else DOCX
            if name.endswith(".docx")
            else ("application", "octet-stream")
        )
        msg.add_attachment(data, maintype=kind[0], subtype=kind[1], filename=name)
    return bytes(msg)


def passed(domain: str) -> str:
    return f"{AUTHSERV}; dkim=pass header.d={domain}; spf=pass smtp.mailfrom={domain}"
