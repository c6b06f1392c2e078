"""What units read and fill (issue 13): the workbook as Excel fills it, percent and
label reading, acknowledgments a clerk can act on, the plan cycle's opening, and
unreadable files answered and shown to the officer.  Real files, real DuckDB, real
SMTP (aiosmtpd), no mocks."""

from __future__ import annotations

import io
import json
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from data.corpus import ON_TIME
from helpers import (
    MOVEMENTS,
    VN,
    cell_of,
    check_email,
    drop,
    email_problems,
    excel_fill,
    plan_docx,
    rows,
)
from typer.testing import CliRunner

from apps import synthetic
from pipeline.collect import collect
from pipeline.init import init_workspace
from pipeline.remind import remind
from thidua.settings import REPO_CONFIG
from thidua.template import build_workbook
from thidua.workspace import Workspace


def test_email_checker_catches_what_the_tester_found():
    bad = email_problems(
        "[Thi đua] Đã quá hạn",
        "gửi lại tệp đã sửa bất cứ lúc nào trước hạn Thứ Hai, 22/12/2025; "
        "tệp hỏng (File is not a zip file); 1.23457e+06; 4/8/2025",
        date(2025, 12, 26),
    )
    assert any("past date" in b for b in bad) and any("English" in b for b in bad)
    assert any("float" in b for b in bad) and any("dd/mm/yyyy" in b for b in bad)
    assert any("movement" in b for b in bad)


def test_workbook_guide_hidden_keys_percent_format_and_dropdowns(cfg):
    unit, cycle = cfg.unit("CQ-YT"), cfg.cycle("nam-2025")
    book = openpyxl.load_workbook(io.BytesIO(build_workbook(cfg, unit, cycle)))
    assert book.sheetnames[0] == "Hướng dẫn"
    guide = "\n".join(str(r[0]) for r in book["Hướng dẫn"].iter_rows(values_only=True) if r[0])
    assert all(m in guide for m in MOVEMENTS)
    assert "Báo cáo kết quả năm 2025" in guide and "Thứ Hai, ngày 22/12/2025" in guide
    assert "từ ngày 21/08/2025 đến ngày 14/12/2025" in guide
    assert cfg.settings.sender.email in guide and "màu".upper() in guide.upper()
    assert book["ThongTin"].column_dimensions["A"].hidden
    # printed one A4 page wide, each wrapped line with its height (docs/huong-dan-sheet.png)
    sheet = book["Hướng dẫn"]
    setup = sheet.page_setup  # fit to 1 page wide (the default width), any height
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1)
    assert setup.fitToHeight == 0 and setup.paperSize == 9 and setup.orientation == "portrait"
    assert sheet.row_dimensions[2].height >= 30  # the movements' two lines
    # the plan cycle's guide asks for the plan document with the workbook
    plan_book = openpyxl.load_workbook(
        io.BytesIO(build_workbook(cfg, unit, cfg.cycle("ke-hoach-2025")))
    )
    plan_guide = " ".join(str(r[0]) for r in plan_book["Hướng dẫn"].iter_rows(values_only=True))
    assert "Văn bản kế hoạch của đơn vị" in plan_guide and "Văn bản kế hoạch" not in guide
    assert "%" in cell_of(book, "HC04").number_format
    validations = {
        str(v.sqref): v for v in book["DeNghiKhenThuong"].data_validations.dataValidation
    }
    forms = next(v for v in validations.values() if "DanhMuc" in (v.formula1 or ""))
    assert "$B$" in forms.formula1  # the labels, not the codes
    kinds = {v.type for v in book["SangKien"].data_validations.dataValidation}
    assert {"date", "list"} <= kinds


def test_percent_typed_as_excel_does_and_a_vietnamese_thousands_count(workspace, smtp_env, cfg):
    """ "85%" typed into HC04 (Excel stores 0.85 with a percent format) is 85, no error;
    "85 %" as text in HC05 too; "1.234.567" typed as text in HC01 is acknowledged as
    1.234.567, with the indicator's name and "ô D.., trang Chỉ tiêu"."""
    ws = Workspace.from_env()  # after smtp_env: as a run resolves its settings
    unit, cycle = cfg.unit("CQ-HCC"), cfg.cycle("nam-2025")  # HC01: the centre's figure

    def fill(book):
        hc04 = cell_of(book, "HC04")
        hc04.value, hc04.number_format = 0.85, "0%"
        cell_of(book, "HC05").value = "85 %"
        cell_of(book, "HC01").value = "1.234.567"

    drop(ws.paths.inbox, "bao-cao.xlsx", excel_fill(synthetic.workbook(cfg, unit, cycle), fill))
    collect(ws, docs=False)
    values = dict(
        rows(
            ws,
            "SELECT indicator_code, value FROM submission_values "
            "WHERE indicator_code IN ('HC01', 'HC04', 'HC05')",
        )
    )
    assert values == {"HC01": 1234567, "HC04": 85, "HC05": 85}
    assert rows(ws, "SELECT outcome FROM submissions") == [("accepted_with_warnings",)]
    assert rows(ws, "SELECT rule_id FROM validation_results") == [("text_number",)]
    [got] = smtp_env.received
    text = got.message.get_body(("plain",)).get_content()
    assert "giá trị đã đọc: “1.234.567”" in text and "đã đọc là 1.234.567" in text
    assert "chỉ tiêu: Tổng số hồ sơ thủ tục hành chính tiếp nhận (mã HC01)" in text
    assert re.search(r"ô D\d+, trang Chỉ tiêu", text)
    assert check_email(got.message) == []


def test_reward_form_labels_and_one_bad_row(workspace, cfg):
    """ "Giấy khen" is Giấy khen của Chủ tịch UBND xã; "Huy chương vàng" is an error on
    its row alone: the report is still taken and its figures count."""
    ws = workspace
    unit, cycle = cfg.unit("TX-01"), cfg.cycle("nam-2025")
    proposals = [
        ("Cá nhân", "Nguyễn Văn Hùng", "Trưởng thôn", "Giấy khen", "Tốt"),
        ("Tập thể", "Tổ chuyển đổi số", "Thôn 1", "Huy chương vàng", "Tốt"),
        ("Cá nhân", "Lê Thị Mai", "Thôn 1", "giay khen cua chu tich ubnd xa", "Tốt"),
    ]
    data = build_workbook(
        cfg,
        unit,
        cycle,
        synthetic.values(cfg, unit, cycle),
        info=synthetic.narrative(unit),
        initiatives=synthetic.initiative_rows(unit, 1, cycle),
        proposals=proposals,
    )
    drop(ws.paths.inbox, "tx01.xlsx", data)
    collect(ws, docs=False, acks=False)
    assert rows(ws, "SELECT outcome, n_errors FROM submissions") == [("accepted_with_warnings", 1)]
    assert rows(ws, "SELECT name, reward_form FROM proposals ORDER BY row_no") == [
        ("Nguyễn Văn Hùng", "giay-khen-xa"),
        ("Lê Thị Mai", "giay-khen-xa"),
    ]
    [(rule, cell, message)] = rows(ws, "SELECT rule_id, cell, message_vi FROM validation_results")
    assert (rule, cell) == ("reward_form", "DeNghiKhenThuong!E3")
    assert "Huy chương vàng" in message and "riêng dòng" in message
    # the figures are loaded and count for the unit
    assert rows(ws, "SELECT count(*) FROM current_submissions WHERE unit_code = 'TX-01'") == [(1,)]
    assert rows(ws, "SELECT count(*) FROM submission_values")[0][0] > 0


def test_initiative_date_outside_the_period_is_a_warning(workspace, cfg):
    ws = workspace
    unit, cycle = cfg.unit("TX-02"), cfg.cycle("nam-2025")
    initiatives = [("Sáng kiến A", "An", "Y tế", "15/06/2025", "Tốt", "Cấp xã")]
    data = build_workbook(
        cfg,
        unit,
        cycle,
        synthetic.values(cfg, unit, cycle, 1),
        info=synthetic.narrative(unit),
        initiatives=initiatives,
    )
    drop(ws.paths.inbox, "tx02.xlsx", data)
    collect(ws, docs=False, acks=False)
    assert rows(ws, "SELECT rule_id, severity, cell FROM validation_results") == [
        ("initiative_date", "warning", "SangKien!E2")
    ]
    assert rows(ws, "SELECT outcome FROM submissions") == [("accepted_with_warnings",)]


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


def test_admin_failure_alert_is_in_vietnamese_only(cfg):
    from thidua.alerts import failure_alert

    at = datetime(2025, 12, 26, 3, 5, tzinfo=UTC)
    for url in ("http://127.0.0.1:4200/runs/flow-run/1", None):
        mail = failure_alert(
            cfg.settings, "collect", "brave-lion", "Crashed", "RuntimeError: ổ đĩa đầy", url, at
        )
        assert mail.subject == "[thidua] Luồng collect dừng đột ngột: brave-lion"
        prose = mail.text.replace("RuntimeError", "").replace("brave-lion", "")
        assert "Thời điểm:   10 giờ 05 ngày 26/12/2025" in mail.text
        assert not re.search(
            r"\b(?:The|flow run|state|error|open in|This run|Loaded|at)\b",
            prose.replace("Crashed", ""),
        ), mail.text
        assert "Trạng thái:  Crashed" in mail.text and "ổ đĩa đầy" in mail.text


def test_screenshots_of_what_a_unit_reads_are_in_the_readme():
    """docs/text-screenshots.sh made them: the Hướng dẫn sheet printed by LibreOffice,
    an acknowledgment rendered by Chromium; the README shows both."""
    repo = Path(__file__).resolve().parent.parent
    readme = (repo / "README.md").read_text("utf-8")
    for name, (width, height) in (
        ("huong-dan-sheet.png", (500, 600)),
        ("ack-email.png", (800, 400)),
    ):
        data = (repo / "docs" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert w >= width and h >= height, (name, w, h)
        assert f"](docs/{name})" in readme
    script = (repo / "docs" / "text-screenshots.sh").read_text("utf-8")
    assert "soffice --headless" in script and "pdftoppm -png -r 80" in script
    assert "chromium --headless --no-sandbox" in script
