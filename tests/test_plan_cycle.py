"""The plan cycle (ke-hoach-2025): its opening sends the template to every unit and a
unit that joins later gets it with its first reminder; the plan document beside the
workbook in the folder inbox is paired, archived, acknowledged and listed.  Real
files, real DuckDB, real SMTP (aiosmtpd)."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from helpers import VN, check_email, drop, plan_docx, rows
from typer.testing import CliRunner

from apps import synthetic
from pipeline.collect import collect
from pipeline.init import init_workspace
from pipeline.remind import remind
from thidua.rules import fmt
from thidua.settings import REPO_CONFIG
from thidua.workspace import Workspace


@pytest.fixture
def own_config(tmp_path, monkeypatch):
    """A copy of the repo config the test may edit (the registry grows)."""
    directory = tmp_path / "config"
    shutil.copytree(REPO_CONFIG, directory)
    monkeypatch.setenv("THIDUA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("THIDUA_CONFIG", str(directory))
    for var in ("THIDUA_SMTP_HOST", "THIDUA_INBOX", "THIDUA_NOW"):
        monkeypatch.delenv(var, raising=False)
    return directory


def test_plan_cycle_opens_with_the_plan_and_a_late_unit_gets_its_template(
    own_config, smtp_env, monkeypatch
):
    def remind_on(ws, day):
        monkeypatch.setenv("THIDUA_NOW", f"{day.isoformat()}T08:00:00+07:00")
        return remind(ws, day, "ke-hoach-2025")

    ws = Workspace.from_env()
    init_workspace(ws)
    for day in (date(2025, 8, 4), date(2025, 8, 13), date(2025, 8, 20)):
        assert remind_on(ws, day).reminders == [], day
    assert smtp_env.received == []

    opened = remind_on(ws, date(2025, 8, 21))
    assert {r["stage"] for r in opened.reminders} == {"mo"}
    assert len(smtp_env.received) == len(ws.config.units)
    assert all(len(list(r.message.iter_attachments())) == 1 for r in smtp_env.received)

    # a unit joins the registry on 25/08; its first reminder (t3, 27/08) carries it all
    with (own_config / "units.csv").open("a", encoding="utf-8") as f:
        f.write(
            "TX-99,Thôn 99,thon_xom,thon_xom,thon99@phongdoanh.example,Trưởng thôn,"
            "truong.thon99@phongdoanh.example\n"
        )
    ws = Workspace.from_env()
    init_workspace(ws)
    smtp_env.received.clear()
    t3 = remind_on(ws, date(2025, 8, 27))
    assert {r["stage"] for r in t3.reminders} == {"t3"}
    by_unit = {r.rcpt_tos[0]: r.message for r in smtp_env.received}
    new = by_unit["thon99@phongdoanh.example"]
    [attachment] = list(new.iter_attachments())
    assert attachment.get_filename() == "ke-hoach-2025_TX-99.xlsx"
    assert "gửi kèm thư này" in new.get_body(("plain",)).get_content()
    old = by_unit[ws.config.unit("TX-01").email]
    assert list(old.iter_attachments()) == []
    assert [p for m in by_unit.values() for p in check_email(m)] == []
    assert new["Date"].datetime == datetime(2025, 8, 27, 8, tzinfo=VN)


def test_plan_document_beside_the_workbook_in_the_folder_inbox(workspace, smtp_env, cfg):
    """The pairing rule of the folder inbox: a .docx/.pdf named as the workbook (any
    case) is its plan, archived raw under its sha256 and linked to the submission, as
    a mail's; the acknowledgment, `thidua status` say whether the plan came; a document
    alone is refused and listed; a later version without a document still counts the
    plan received."""
    import hashlib

    from apps.cli import app
    from thidua.intake import LONE_DOCUMENT

    ws = Workspace.from_env()  # after smtp_env: as a run resolves its settings
    plan = cfg.cycle("ke-hoach-2025")
    vp, kt, yt = cfg.unit("CQ-VP"), cfg.unit("CQ-KT"), cfg.unit("CQ-YT")
    when = datetime(2025, 8, 25, 10, tzinfo=VN)
    pdf = synthetic.plan_pdf(cfg, vp, plan)
    word = plan_docx(kt.name)
    for unit in (vp, kt, yt):
        drop(
            ws.paths.inbox,
            f"ke-hoach-2025_{unit.code}.xlsx",
            synthetic.workbook(cfg, unit, plan),
            when,
        )
    drop(ws.paths.inbox, "ke-hoach-2025_CQ-VP.pdf", pdf, when)
    drop(ws.paths.inbox, "KE-HOACH-2025_cq-kt.docx", word, when)  # any case
    drop(ws.paths.inbox, "ke-hoach-thon-1.docx", word, when)  # no workbook
    done = collect(ws, docs=False)

    assert sorted((r["unit"] or "", r["outcome"]) for r in done.files()) == [
        ("", "unreadable"),
        ("CQ-KT", "accepted"),
        ("CQ-VP", "accepted"),
        ("CQ-YT", "accepted"),
    ]
    linked = rows(
        ws,
        "SELECT s.unit_code, a.role, a.name, a.sha256, f.archived_path "
        "FROM attachments a JOIN submissions s USING (submission_id) "
        "JOIN files f USING (sha256) ORDER BY 1, 2",
    )
    assert [r[:3] for r in linked] == [
        ("CQ-KT", "document", "KE-HOACH-2025_cq-kt.docx"),
        ("CQ-KT", "workbook", "ke-hoach-2025_CQ-KT.xlsx"),
        ("CQ-VP", "document", "ke-hoach-2025_CQ-VP.pdf"),
        ("CQ-VP", "workbook", "ke-hoach-2025_CQ-VP.xlsx"),
    ]
    for data, (*_, sha, path) in ((word, linked[0]), (pdf, linked[2])):
        assert sha == hashlib.sha256(data).hexdigest() and Path(path).read_bytes() == data
    assert not any(ws.paths.inbox.iterdir())
    assert [p.name[13:] for p in ws.paths.quarantine.iterdir()] == ["ke-hoach-thon-1.docx"]

    acks = {r.rcpt_tos[0]: r.message for r in smtp_env.received}
    assert len(acks) == 3
    for unit, name in ((vp, "ke-hoach-2025_CQ-VP.pdf"), (kt, "KE-HOACH-2025_cq-kt.docx")):
        text = acks[unit.email].get_body(("plain",)).get_content()
        assert f"Văn bản kế hoạch của đơn vị: đã nhận (“{name}”)." in text
        assert name in acks[unit.email].get_body(("html",)).get_content()
    missing = acks[yt.email].get_body(("plain",)).get_content()
    assert "Văn bản kế hoạch của đơn vị: chưa nhận được" in missing and ".pdf" in missing
    assert [p for m in acks.values() for p in check_email(m)] == []

    runner = CliRunner()
    status = json.loads(runner.invoke(app, ["status", "--cycle", "ke-hoach-2025", "--json"]).output)
    [cycle_row] = status["cycles"]
    assert cycle_row["plan_documents"] == 2
    by_unit = {u["unit"]: u["plan_document"] for u in status["units"]}
    assert (by_unit["CQ-VP"], by_unit["CQ-KT"], by_unit["CQ-YT"]) == (
        "ke-hoach-2025_CQ-VP.pdf",
        "KE-HOACH-2025_cq-kt.docx",
        None,
    )
    [lone] = status["unreadable"]
    assert lone["file"] == "ke-hoach-thon-1.docx"
    assert LONE_DOCUMENT.format(suffix=".docx") in lone["reason"]
    table = runner.invoke(app, ["status", "--cycle", "ke-hoach-2025"]).output
    assert "Văn bản kế hoạch" in table and "chưa nhận" in table
    assert "ke-hoach-2025_CQ-VP.pdf" in table

    # CQ-VP corrects its workbook alone: the plan it sent with version 1 still counts
    smtp_env.received.clear()
    drop(
        ws.paths.inbox,
        "ke-hoach-2025_CQ-VP_sua.xlsx",
        synthetic.workbook(cfg, vp, plan, initiatives=2),
        when + timedelta(days=1),
    )
    collect(ws, docs=False)
    [again] = smtp_env.received
    assert (
        "Văn bản kế hoạch của đơn vị: đã nhận (“ke-hoach-2025_CQ-VP.pdf”)."
        in again.message.get_body(("plain",)).get_content()
    )


def test_a_target_below_what_the_unit_reached_is_warned_with_its_cell(workspace, smtp_env, cfg):
    """Issue 21 item 8: a plan re-sent after the unit's 2025 report was accepted, with a
    2027 target of BD02 (a count of people, cumulative) below the 2025 level already
    reached, is "có lưu ý": the acknowledgment names the indicator, sheet, cell, the
    target and the reached value; a target above it is not warned."""
    ws = Workspace.from_env()
    vp, plan, y2025 = cfg.unit("CQ-VP"), cfg.cycle("ke-hoach-2025"), cfg.cycle("nam-2025")
    reached = synthetic.values(cfg, vp, y2025)
    drop(
        ws.paths.inbox,
        "nam-2025_CQ-VP.xlsx",
        synthetic.workbook(cfg, vp, y2025),
        datetime(2025, 12, 16, 9, tzinfo=VN),
    )
    collect(ws, docs=False)
    smtp_env.received.clear()
    # every count's targets well above what 2025 reached, but BD02's for 2027
    counts = {i.code for i in cfg.indicators if i.type in ("int", "decimal")}
    targets = {
        (code, f"target_{y}"): 2 * v + 10
        for code, v in reached.items()
        if code in counts
        for y in plan.targets
    }
    low = reached["BD02"] - 1
    drop(
        ws.paths.inbox,
        "ke-hoach-2025_CQ-VP.xlsx",
        synthetic.workbook(cfg, vp, plan, overrides=targets | {("BD02", "target_2027"): low}),
        datetime(2026, 1, 5, 9, tzinfo=VN),
    )
    collect(ws, docs=False)

    found = rows(
        ws,
        "SELECT p.sheet, p.cell, p.value, p.message_vi FROM validation_results p "
        "JOIN submissions s USING (submission_id) "
        "WHERE s.cycle_id = 'ke-hoach-2025' AND p.rule_id = 'target_reached'",
    )
    assert len(found) == 1, found
    sheet, cell, value, message = found[0]
    assert sheet == "ChiTieu" and cell.startswith("ChiTieu!") and value == fmt(low)
    assert message.startswith(f"BD02: chỉ tiêu đăng ký năm 2027 là {fmt(low)}, thấp hơn")
    assert f"({fmt(reached['BD02'])}, theo các báo cáo năm đã tiếp nhận đến năm 2025)" in message
    ack = smtp_env.received[0].message.get_body(("plain",)).get_content()
    assert "BD02" in ack and cell.split("!")[1] in ack and fmt(reached["BD02"]) in ack
