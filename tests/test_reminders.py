"""Due stages, the sent log, the reminder emails and `thidua remind --dry-run`."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from apps.cli import app
from pipeline.remind import plan_reminders
from thidua.reminders import due_stages, reminder_email
from warehouse.db import connect
from warehouse.writer import record_reminders

# spec "Reminders": nam-2025 due 20/12/2025 (Saturday) → 22/12/2025
NAM_2025 = {
    "mo": date(2025, 11, 21),
    "t7": date(2025, 12, 11),
    "t3": date(2025, 12, 17),
    "t1": date(2025, 12, 19),
    "qua-han": date(2025, 12, 23),
    "don-doc": date(2025, 12, 29),
}


def stage_on(cfg, day: date) -> str | None:
    stages = due_stages(cfg, day, "nam-2025")
    return stages["stage"].iloc[0] if len(stages) else None


@pytest.mark.parametrize("stage, day", NAM_2025.items())
def test_each_stage_is_due_on_its_day(cfg, stage, day):
    assert stage_on(cfg, day) == stage


def test_catch_up_weekends_and_window(cfg):
    assert stage_on(cfg, date(2025, 11, 20)) is None  # before mo
    assert stage_on(cfg, date(2025, 12, 18)) == "t3"  # missed t3 day: caught up
    assert stage_on(cfg, date(2025, 12, 22)) == "t1"  # the due day itself: still t1
    assert stage_on(cfg, date(2025, 12, 13)) is None  # Saturday: nothing goes out
    assert stage_on(cfg, date(2026, 1, 28)) == "don-doc"  # within 30 days of don-doc
    assert stage_on(cfg, date(2026, 2, 2)) is None  # long past: no longer chased


def results(planned: pd.DataFrame, status: str) -> pd.DataFrame:
    return planned.assign(
        status=status, sent_at=datetime.now(UTC), message_id="<m@x>", recipients="x@y", error=None
    )


def accept(con, unit: str, cycle: str) -> None:
    con.execute(
        "INSERT INTO submissions (submission_id, unit_code, cycle_id, version, "
        "received_at, outcome, file_format, batch_id) "
        "VALUES (?, ?, ?, 1, now(), 'accepted', 'xlsx', 'b1')",
        [f"sha-{unit}", unit, cycle],
    )


def test_plan_skips_sent_and_submitted_and_never_goes_back(workspace):
    cfg = workspace.config
    with connect(workspace.paths.warehouse) as con:
        accept(con, "CQ-VP", "nam-2025")
        mo = plan_reminders(con, cfg, NAM_2025["mo"])
        assert len(mo) == 39 and mo["skip"].isna().all()  # mo goes to every unit
        record_reminders(con, results(mo[mo.unit_code == "CQ-KT"], "sent"))
        record_reminders(con, results(mo[mo.unit_code == "CQ-CA"], "failed"))
        again = plan_reminders(con, cfg, NAM_2025["mo"]).set_index("unit_code")
        assert again.loc["CQ-KT", "skip"] == "already_sent"
        assert pd.isna(again.loc["CQ-CA", "skip"]) and again.loc["CQ-CA", "attempts"] == 1

        t7 = plan_reminders(con, cfg, NAM_2025["t7"]).set_index("unit_code")
        assert t7.loc["CQ-VP", "skip"] == "submitted"
        assert t7["skip"].isna().sum() == 38
        record_reminders(con, results(t7[t7["skip"].isna()].reset_index(), "sent"))
        assert not plan_reminders(con, cfg, NAM_2025["t7"])["skip"].isna().any()
        # as if the due date moved later: mo is due again, but never after a sent t7
        back = plan_reminders(con, cfg, NAM_2025["mo"])
        assert back[back["skip"].isna()]["unit_code"].tolist() == ["CQ-VP"]


def test_sent_row_is_never_overwritten_and_failures_count_attempts(workspace):
    with connect(workspace.paths.warehouse) as con:
        planned = plan_reminders(con, workspace.config, NAM_2025["qua-han"]).head(2)
        record_reminders(con, results(planned, "failed"))
        record_reminders(con, results(planned, "failed"))
        record_reminders(con, results(planned.head(1), "sent"))
        record_reminders(con, results(planned.head(1), "failed"))
        rows = con.execute(
            "SELECT unit_code, status, attempts FROM reminders ORDER BY unit_code"
        ).fetchall()
    assert rows == [(planned.unit_code[0], "sent", 3), (planned.unit_code[1], "failed", 2)]


def test_mo_email_attaches_the_units_template_and_don_doc_copies_head_and_vhxh(cfg):
    unit, cycle = cfg.unit("TX-01"), cfg.cycle("nam-2025")
    mo = reminder_email(cfg, unit, cycle, "mo")
    assert mo.subject == (
        "[Thi đua đổi mới sáng tạo, chuyển đổi số và Bình dân học vụ số] "
        "Mở kỳ báo cáo: Báo cáo kết quả năm 2025 – hạn nộp ngày 22/12/2025"
    )
    assert "Kính gửi: " + unit.name in mo.text and "Thứ Hai, ngày 22/12/2025" in mo.text
    assert "Thứ Hai, ngày 22/12/2025" in mo.html and "<li>" in mo.html
    assert cfg.settings.sender.name in mo.text and mo.cc == []
    [(name, data)] = mo.attachments
    assert name == "nam-2025_TX-01.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(data))
    info = {r[0]: r[2] for r in wb["ThongTin"].iter_rows(min_row=2, values_only=True)}
    assert info["ma_don_vi"] == "TX-01" and info["ky_bao_cao"] == "nam-2025"
    codes = [r[0] for r in wb["ChiTieu"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert codes == [i.code for i in cfg.indicators_for(unit)]

    chase = reminder_email(cfg, unit, cycle, "don-doc")
    assert chase.to == [unit.email]
    assert chase.cc == [unit.head_email, cfg.settings.admin.email]
    assert chase.attachments == [] and "Đôn đốc" in chase.subject


@pytest.mark.parametrize("stage", ["t7", "t3", "t1", "qua-han"])
def test_every_stage_renders_text_and_html(cfg, stage):
    email = reminder_email(cfg, cfg.unit("CQ-VP"), cfg.cycle("ke-hoach-2025"), stage)
    assert "03/09/2025" in email.subject and "Thứ Tư, ngày 03/09/2025" in email.text
    assert "Đăng ký chỉ tiêu năm 2027, 2030" in email.text
    assert "<html" in email.html and email.attachments == []


def test_cli_dry_run_lists_the_39_units_due_t7_and_writes_nothing(workspace):
    result = CliRunner().invoke(app, ["remind", "--today", "2025-12-11", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {(r["cycle_id"], r["stage"]) for r in out["reminders"]} == {("nam-2025", "t7")}
    assert sorted(r["unit_code"] for r in out["reminders"]) == sorted(
        u.code for u in workspace.config.units
    )
    assert len(out["reminders"]) == 39 and out["stages"][0]["to_send"] == 39
    with connect(workspace.paths.warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM reminders").fetchall() == [(0,)]
    assert not list(workspace.paths.outbox.iterdir())
    table = CliRunner().invoke(app, ["remind", "--today", "2025-12-11", "--dry-run"]).output
    assert "Nhắc trước hạn 7 ngày làm việc" in table and " t7 " not in table


def test_cli_template_writes_the_units_workbook(workspace, tmp_path):
    out = tmp_path / "t.xlsx"
    result = CliRunner().invoke(app, ["template", "CQ-VP", "nam-2025", "-o", str(out)])
    assert result.exit_code == 0 and result.output == f"đã ghi {out}\n"
    assert openpyxl.load_workbook(out)["ThongTin"]["C2"].value == "CQ-VP"
    bad = CliRunner().invoke(app, ["template", "XX-1", "nam-2025"])
    assert bad.exit_code == 1 and "no unit 'XX-1'" in bad.output


def test_cli_remind_refuses_a_broken_smtp_setup_before_running(workspace, monkeypatch):
    monkeypatch.setenv("THIDUA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("THIDUA_SMTP_SECURITY", "tls")
    result = CliRunner().invoke(app, ["remind", "--today", "2025-12-11"])
    assert result.exit_code == 2  # a settings error, as every broken config
    assert result.output == (
        "Error: environment THIDUA_SMTP_SECURITY: [smtp] security: "
        "Input should be 'starttls', 'ssl' or 'none' (got 'tls')\n"
    )


def test_companies_get_a_reminder_not_an_escalation(cfg):
    from thidua.reminders import recipients, reminder_email

    company, office = cfg.unit("DN-06"), cfg.unit("CQ-VP")
    cycle = cfg.cycle("nam-2025")
    assert recipients(cfg, company, "don-doc") == ([company.email], [])
    assert recipients(cfg, office, "don-doc")[1] == [office.head_email, cfg.settings.admin.email]
    mail = reminder_email(cfg, company, cycle, "don-doc")
    assert "Đôn đốc" not in mail.subject and "đồng gửi" not in mail.text
    chase = reminder_email(cfg, office, cycle, "don-doc")
    assert f"đồng gửi {office.head_title} và" in chase.text  # the title keeps its case
    after = reminder_email(cfg, office, cycle, "qua-han")
    assert "trước hạn" not in after.text and "ngay" in after.text
