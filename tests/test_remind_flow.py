"""The `remind` flow end to end: real Prefect, real DuckDB, real aiosmtpd."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from helpers import SmtpRecorder, free_port

from flows.remind import remind
from warehouse.db import connect

pytestmark = pytest.mark.slow

MO, DON_DOC = date(2025, 11, 21), date(2025, 12, 29)


@pytest.fixture
def smtp_env(monkeypatch):
    """Points the mailer at `recorder`'s port; the server is started by the test."""
    recorder = SmtpRecorder("127.0.0.1", free_port())
    monkeypatch.setenv("THIDUA_SMTP_HOST", recorder.host)
    monkeypatch.setenv("THIDUA_SMTP_PORT", str(recorder.port))
    monkeypatch.setenv("THIDUA_SMTP_RETRY_DELAYS", "0")
    return recorder


def sent_log(ws) -> dict[str, tuple]:
    with connect(ws.paths.warehouse, read_only=True) as con:
        rows = con.execute(
            "SELECT unit_code, stage, status, attempts, message_id, error FROM reminders"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_mo_day_sends_each_unit_its_template_once(
    prefect_harness, workspace, smtp_server, monkeypatch
):
    monkeypatch.setenv("THIDUA_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("THIDUA_SMTP_PORT", str(smtp_server.port))
    first = remind(today=MO)
    assert len(smtp_server.received) == 39
    assert first["stages"][0] | {"sent": 39, "failed": 0} == first["stages"][0]

    unit = workspace.config.unit("CQ-VHXH")
    [got] = [r for r in smtp_server.received if r.rcpt_tos == [unit.email]]
    msg = got.message
    assert msg["Subject"] == (
        "[Thi đua đổi mới sáng tạo, chuyển đổi số và Bình dân học vụ "
        "số] Mở kỳ báo cáo: Báo cáo kết quả năm 2025 – hạn nộp ngày "
        "22/12/2025"
    )
    assert msg["From"].addresses[0].display_name == "Phòng Văn hoá – Xã hội xã Phong Doanh"
    assert msg["To"] == unit.email and msg["Cc"] is None
    text = msg.get_body(("plain",)).get_content()
    assert f"Kính gửi: {unit.name}" in text and "Hạn nộp: Thứ Hai, ngày 22/12/2025" in text
    [attachment] = msg.iter_attachments()
    wb = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert wb["ThongTin"]["C2"].value == unit.code
    codes = [r[0] for r in wb["ChiTieu"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert codes == [i.code for i in workspace.config.indicators_for(unit)]
    log = sent_log(workspace)
    assert log[unit.code][:3] == ("mo", "sent", 1) and log[unit.code][3] == msg["Message-ID"]

    second = remind(today=MO)
    assert len(smtp_server.received) == 39
    assert second["stages"][0]["skipped_sent"] == 39 and second["reminders"] == []


def test_server_down_is_logged_failed_and_sent_once_later(prefect_harness, workspace, smtp_env):
    from aiosmtpd.controller import Controller

    remind(today=DON_DOC)  # nothing listens on the port yet
    log = sent_log(workspace)
    assert len(log) == 39
    assert all(r[:3] == ("don-doc", "failed", 1) and "Connection" in r[4] for r in log.values())

    smtp_env.refuse = {workspace.config.unit("TX-01").head_email}
    controller = Controller(smtp_env, hostname=smtp_env.host, port=smtp_env.port)
    controller.start()
    try:
        remind(today=DON_DOC)
        remind(today=DON_DOC)
    finally:
        controller.stop()
    assert len(smtp_env.received) == 39
    log = sent_log(workspace)
    assert {r[:3] for r in log.values()} == {("don-doc", "sent", 2)}
    assert "refused" in log["TX-01"][4] and log["CQ-VP"][4] is None
    unit = workspace.config.unit("CQ-VP")
    [got] = [r for r in smtp_env.received if unit.email in r.rcpt_tos]
    assert got.rcpt_tos == [unit.email, unit.head_email, "vhxh@phongdoanh.example"]
    assert got.message["Cc"] == f"{unit.head_email}, vhxh@phongdoanh.example"
    assert got.message["Subject"].startswith(
        "[Thi đua đổi mới sáng tạo, chuyển đổi số và Bình dân học vụ số] Đôn đốc: "
        "Văn phòng HĐND và UBND xã"
    )
