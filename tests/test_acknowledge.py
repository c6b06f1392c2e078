"""Acknowledgments (`thidua.acknowledge`): a file that cannot be opened, mailed from a
registered address, is answered in Vietnamese to the unit with what to do, and shown
in `thidua status` and the collect artifact.  Real DuckDB, real SMTP (aiosmtpd)."""

from __future__ import annotations

import json
from email.message import EmailMessage

from data.corpus import ON_TIME
from helpers import check_email, drop
from typer.testing import CliRunner

from pipeline.collect import collect
from thidua.workspace import Workspace


def test_corrupt_file_from_a_registered_address(workspace, smtp_env, cfg):
    """Acknowledged in Vietnamese to the unit, listed in `thidua status` and in the
    collect artifact."""
    from apps.cli import app
    from flows.collect import artifact_rows

    ws = Workspace.from_env()  # after smtp_env: as a run resolves its settings
    unit = cfg.unit("TX-05")
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Thôn 5 <{unit.email}>", cfg.settings.sender.email
    msg["Subject"] = "Báo cáo thi đua năm 2025"
    msg["Date"] = ON_TIME.strftime("%a, %d %b %Y %H:%M:%S +0700")
    msg.set_content("Gửi báo cáo.")
    msg.add_attachment(
        b"PK\x03\x04 cut short in transit",
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="bao-cao-thon.xlsx",
    )
    drop(ws.paths.inbox, "thon5.eml", bytes(msg))
    done = collect(ws, docs=False)

    [got] = smtp_env.received
    assert got.rcpt_tos == [unit.email]
    text = got.message.get_body(("plain",)).get_content()
    assert "Kính gửi: Thôn 5" in text and "Không đọc được tệp".upper() in text
    assert "LibreOffice" in text and "mật khẩu" in text and ".xlsx" in text
    assert check_email(got.message) == []

    [row] = artifact_rows(done)
    assert row["Kết quả"] == "Không đọc được tệp" and row["Người gửi"] == unit.email
    assert row["Lý do không đọc được"].startswith("Không mở được tệp")
    assert row["Thư xác nhận"] == "Đã gửi"

    runner = CliRunner()
    status = json.loads(runner.invoke(app, ["status", "--json"]).output)
    [bad] = status["unreadable"]
    assert (bad["unit"], bad["file"], bad["ack"]) == ("TX-05", "bao-cao-thon.xlsx", "sent")
    table = runner.invoke(app, ["status"]).output
    assert "Tệp không đọc được: 1" in table and "TX-05" in table
    assert "Tình hình nộp báo cáo theo kỳ" in table and "Chưa nộp" in table
