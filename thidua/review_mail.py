"""The email a unit gets when the officer returns its report: the comment, and its
upload link to send the corrected version."""

from __future__ import annotations

from html import escape

from thidua.config import Config, Cycle, Unit
from thidua.mailer import Email


def returned_email(
    cfg: Config, unit: Unit, cycle: Cycle, version: int, comment: str, link: str | None
) -> Email:
    s = cfg.settings.sender
    subject = f"[{cycle.id}] Báo cáo của {unit.name} được trả lại để hoàn thiện"
    lines = [
        f"Kính gửi: {unit.name}",
        "",
        (
            f"{s.name} trả lại báo cáo {cycle.title} (phiên bản {version}) của đơn vị "
            "để hoàn thiện, với ý kiến sau:"
        ),
        "",
        f"    {comment}",
        "",
        "Đề nghị đơn vị sửa và gửi lại biểu mẫu"
        + (f" tại trang nộp báo cáo của đơn vị: {link}" if link else f" bằng thư tới {s.email}")
        + ".",
        "",
        "Trân trọng,",
        s.name,
        f"Điện thoại: {s.phone or ''} – Email: {s.email}",
    ]
    text = "\n".join(lines) + "\n"
    html = (
        "".join(f"<p>{escape(x)}</p>" if x else "" for x in lines[:3])
        + (f"<blockquote>{escape(comment)}</blockquote>")
        + (
            f'<p>Đề nghị đơn vị sửa và gửi lại biểu mẫu tại <a href="{escape(link)}">trang nộp '
            "báo cáo của đơn vị</a>.</p>"
            if link
            else f"<p>Đề nghị đơn vị sửa và gửi lại biểu mẫu bằng thư tới {escape(s.email)}.</p>"
        )
        + (
            f"<p>Trân trọng,<br>{escape(s.name)}<br>Điện thoại: {escape(s.phone or '')} – "
            f"Email: {escape(s.email)}</p>"
        )
    )
    return Email(
        to=[unit.email],
        subject=subject,
        text=text,
        html=f'<!DOCTYPE html><html lang="vi"><body>{html}</body></html>',
    )
