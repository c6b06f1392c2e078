"""The commendation path (issue 22) on a real warehouse: the rules of forms, proposals
through the Hội đồng Thi đua – Khen thưởng xã, and what reports count."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from docx import Document
from helpers import PROPOSALS, VN, docx_text, send
from openpyxl import load_workbook

from pipeline import awards
from pipeline.rollup import run_annual
from thidua.awards import AwardRefused
from warehouse.db import connect
from warehouse.rollups import cycle_tables, prepare

MEMBERS = 7  # config/council.yaml


def tables(ws, cycle: str) -> dict:
    with connect(ws.paths.warehouse, read_only=True) as con:
        prepare(con, ws.config.settings.rollup, [cycle])
        return cycle_tables(con, cycle, ws.config.settings.scoring)


def section_iv(path) -> str:
    text = "\n".join(p.text for p in Document(str(path)).paragraphs)
    return text[text.index("IV. CÔNG TÁC KHEN THƯỞNG") : text.index("3. Điểm tiêu chí")]


def test_forms_subjects_and_classes_on_their_rows(workspace):
    at = datetime(2030, 10, 1, 9, tzinfo=VN)
    send(
        workspace,
        "TX-03",
        "tong-ket-2030",
        [
            ("Cá nhân", "Nguyễn Văn An", "Trưởng thôn", "Cờ thi đua của UBND tỉnh", "Tốt"),
            ("Cá nhân", "Trần Thị Bình", "Bí thư chi bộ", "Huân chương Lao động hạng Ba", "Tốt"),
            ("Hộ gia đình", "Hộ ông Lê Văn Cường", "Thôn 3", "Giấy khen", "Tốt"),
            ("Cá nhân", "Phạm Văn Dũng", "Công an viên", "Huân chương Lao động", "Tốt"),
        ],
        at,
        "tong-ket-2030_TX-03.xlsx",
    )
    with connect(workspace.paths.warehouse, read_only=True) as con:
        found = con.execute(
            "SELECT rule_id, cell, message_vi FROM validation_results "
            "WHERE rule_id IN ('reward_subject', 'reward_form') ORDER BY cell"
        ).fetchall()
        outcome = con.execute("SELECT outcome FROM submissions").fetchall()
    assert outcome == [("accepted_with_warnings",)]  # errors on their rows alone
    [(rule, cell, message), (rule2, cell2, _)] = found
    assert (rule, cell) == ("reward_subject", "DeNghiKhenThuong!B2")
    assert message.startswith(
        "Dòng 2 trang Đề nghị khen thưởng: “Cờ thi đua của UBND tỉnh” chỉ tặng cho tập "
        "thể, không tặng cho cá nhân (“Nguyễn Văn An”)"
    )
    # "Huân chương Lao động" alone names three classes: not guessed
    assert (rule2, cell2) == ("reward_form", "DeNghiKhenThuong!E5")
    rows = {r["name"]: r for r in awards.proposals(workspace, "tong-ket-2030")}
    assert rows["Trần Thị Bình"]["reward_form"] == "huan-chuong-lao-dong-hang-ba"
    assert rows["Trần Thị Bình"]["decided_by"].startswith("Chủ tịch nước quyết định")
    assert rows["Hộ ông Lê Văn Cường"]["subject_type"] == "Hộ gia đình"
    # the officer sees the refused rows too, as such
    assert rows["Nguyễn Văn An"]["state_vi"] == "Đề nghị không hợp lệ"
    assert rows["Phạm Văn Dũng"]["state"] == "khong-hop-le"
    # highest form first (plan III.2.b)
    assert [r["name"] for r in awards.proposals(workspace, "tong-ket-2030")][:1] == [
        "Trần Thị Bình"
    ]


def test_only_what_the_council_approved_counts_and_decisions_survive_a_new_version(
    workspace,
):
    ws = workspace
    send(ws, "TX-03", "nam-2025", PROPOSALS, datetime(2025, 12, 10, 9, tzinfo=VN), "a.xlsx")
    rows = {r["name"]: r for r in awards.proposals(ws, "nam-2025")}
    assert {r["state"] for r in rows.values()} == {"de-xuat"}
    before = tables(ws, "nam-2025")
    assert before["proposals"].empty and before["proposal_tally"].empty
    assert "chưa xét" in section_iv(run_annual(ws, 2025).files["docx"])

    m = awards.open_meeting(ws, "nam-2025", date(2025, 12, 22), ["Nguyễn Văn Hùng"], "vhxh")
    with pytest.raises(AwardRefused, match="chưa quá nửa"):
        awards.decide(ws, m["id"], [rows["Nguyễn Thị Hoa"]["id"]], True, 3, None, "vhxh")
    yes = [rows[n]["id"] for n in ("Tổ công nghệ số Thôn 3", "Hộ bà Lê Thị Lan", "Trần Văn Nam")]
    awards.decide(ws, m["id"], yes, True, 6, "Đủ tiêu chuẩn", "vhxh")
    awards.decide(ws, m["id"], [rows["Nguyễn Thị Hoa"]["id"]], False, 2, "Chưa đủ", "vhxh")

    after = tables(ws, "nam-2025")
    assert set(after["proposals"]["name"]) == {
        "Tổ công nghệ số Thôn 3",
        "Hộ bà Lê Thị Lan",
        "Trần Văn Nam",
    }
    tally = after["proposal_tally"].set_index("reward_form")
    assert tally.loc["giay-khen-xa", ["collectives", "individuals", "households"]].tolist() == [
        1,
        0,
        1,
    ]
    assert all(tally["total"] == tally["collectives"] + tally["individuals"] + tally["households"])

    with pytest.raises(AwardRefused, match="thẩm quyền Chủ tịch UBND xã"):
        awards.record_document(
            ws, "nam-2025", yes[:1], "da-trinh", "5/TTr-UBND", date(2025, 12, 24), "vhxh"
        )
    awards.record_document(
        ws, "nam-2025", yes[:2], "da-khen-thuong", "12/QĐ-UBND", date(2025, 12, 23), "vhxh"
    )
    awards.record_document(
        ws, "nam-2025", yes[2:], "da-trinh", "5/TTr-UBND", date(2025, 12, 24), "vhxh"
    )
    text = section_iv(run_annual(ws, 2025).files["docx"])
    assert (
        "Chủ tịch UBND xã tặng Giấy khen của Chủ tịch UBND xã cho 1 tập thể, 1 hộ gia đình" in text
    )
    assert "Quyết định số 12/QĐ-UBND ngày 23/12/2025" in text
    assert "Tờ trình số 5/TTr-UBND ngày 24/12/2025" in text
    assert "Nguyễn Thị Hoa" not in text and "chưa xét" not in text

    files = awards.documents(ws, "nam-2025", date(2025, 12, 23), m["id"])
    qd, ttr, minutes = (docx_text(files[k]) for k in ("quyet-dinh", "to-trinh", "bien-ban"))
    assert "Số:      /QĐ-UBND" in qd and "Tổ công nghệ số Thôn 3" in qd
    assert "Hộ bà Lê Thị Lan" in qd and "Nguyễn Thị Hoa" not in qd
    assert "Kính gửi: Chủ tịch UBND tỉnh Ninh Bình (qua Sở Nội vụ" in ttr
    assert "Trần Văn Nam" in ttr and "Nguyễn Thị Hoa" not in ttr
    assert "1/7 thành viên Hội đồng có mặt" in minutes and "Không đồng ý" in minutes
    assert "2/7" in minutes and "6/7" in minutes
    xlsx = load_workbook(files["quyet-dinh-danh-sach"]).active
    assert [r[1] for r in xlsx.iter_rows(min_row=4, values_only=True)] == [
        "Tổ công nghệ số Thôn 3",
        "Hộ bà Lê Thị Lan",
    ]
    # approved at a second meeting, Hoa appears in the danh sách and the counts
    m2 = awards.open_meeting(ws, "nam-2025", date(2025, 12, 29), ["Trần Thị Mai"], "vhxh")
    awards.decide(ws, m2["id"], [rows["Nguyễn Thị Hoa"]["id"]], True, 5, None, "vhxh")
    files = awards.documents(ws, "nam-2025", date(2025, 12, 30))
    assert "Nguyễn Thị Hoa" in docx_text(files["quyet-dinh"])
    assert "Nguyễn Thị Hoa" in set(tables(ws, "nam-2025")["proposals"]["name"])

    # a new version: Hoa's summary changed, Nam dropped; decisions stay, marked
    changed = [PROPOSALS[0], (*PROPOSALS[1][:4], "Tích cực, thêm số liệu"), PROPOSALS[2]]
    send(ws, "TX-03", "nam-2025", changed, datetime(2025, 12, 12, 9, tzinfo=VN), "b.xlsx")
    rows = {r["name"]: r for r in awards.proposals(ws, "nam-2025")}
    assert rows["Nguyễn Thị Hoa"]["state"] == "hoi-dong-dong-y"
    assert rows["Nguyễn Thị Hoa"]["change"] == "changed"
    assert rows["Trần Văn Nam"]["state"] == "da-trinh"
    assert rows["Trần Văn Nam"]["change"] == "removed"
    assert rows["Tổ công nghệ số Thôn 3"]["state"] == "da-khen-thuong"
    assert rows["Tổ công nghệ số Thôn 3"]["change"] is None
    log = awards.history(ws, "nam-2025")
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in log][:1] == [
        ("de-xuat", "hoi-dong-dong-y", "vhxh")
    ]
    assert len(log) == 8


def test_a_meeting_by_cli(workspace):
    from typer.testing import CliRunner

    from apps.cli import app

    send(workspace, "TX-03", "nam-2025", PROPOSALS, datetime(2025, 12, 10, 9, tzinfo=VN), "a.xlsx")
    run = CliRunner().invoke
    listed = json.loads(run(app, ["khen-thuong", "list", "nam-2025", "--json"]).stdout)
    assert listed[0]["reward_form"] == "bang-khen-tinh"  # highest first
    assert {r["state"] for r in listed} == {"de-xuat"}
    nam = next(r["id"] for r in listed if r["name"] == "Trần Văn Nam")
    opened = run(
        app,
        [
            "khen-thuong",
            "meeting",
            "nam-2025",
            "--date",
            "22/12/2025",
            "--present",
            "Nguyễn Văn Hùng",
            "--present",
            "Trần Thị Mai",
            "--json",
        ],
    )
    meeting = json.loads(opened.stdout)
    assert meeting["members"] == MEMBERS
    out = run(app, ["khen-thuong", "decide", str(meeting["id"]), nam, "--votes", "5", "--approve"])
    assert out.exit_code == 0 and "Hội đồng đồng ý (5/7 phiếu đồng ý)" in out.stdout
    out = run(
        app,
        [
            "khen-thuong",
            "document",
            "nam-2025",
            nam,
            "--state",
            "da-khen-thuong",
            "--number",
            "1/QĐ-UBND",
            "--date",
            "23/12/2025",
        ],
    )
    assert out.exit_code == 1 and "do cấp trên quyết định" in out.stderr
    shown = run(app, ["khen-thuong", "list", "nam-2025"]).stdout
    assert "Trần Văn Nam" in shown and "Đơn vị đề xuất" in shown  # a table for the officer
    listed = json.loads(run(app, ["khen-thuong", "list", "nam-2025", "--json"]).stdout)
    assert next(r for r in listed if r["id"] == nam)["state"] == "hoi-dong-dong-y"


# -- the register of awards decided (item 5) ------------------------------------------------


def danh_sach(path, rows: list[tuple]) -> None:
    """A simple danh sách workbook as an officer types it: headers in row 1."""
    from openpyxl import Workbook

    from thidua.register import ENTRY_COLUMNS

    wb = Workbook()
    wb.active.append([h for _, h in ENTRY_COLUMNS])
    for n, row in enumerate(rows, 1):
        wb.active.append([n, *row])
    wb.save(path)


def phase_table(path) -> list[list[str]]:
    """The rows of section IV.4's table (the one ending in "Cộng")."""
    [table] = [t for t in Document(str(path)).tables if t.rows[-1].cells[0].text == "Cộng"]
    return [[c.text for c in r.cells] for r in table.rows]


def test_register_hand_entries_and_the_phase_tables(workspace, tmp_path):
    from typer.testing import CliRunner

    from apps.cli import app
    from pipeline.register import entries
    from pipeline.rollup import run_phase

    ws = workspace
    run = CliRunner().invoke
    empty = docx_text(run_phase(ws, 1, date(2027, 11, 20)).files["docx"])
    assert "Sổ theo dõi khen thưởng chưa có khen thưởng nào từ 21/08/2025 đến 20/11/2027" in empty

    # an award through the council's path: the Quyết định puts it in the register
    send(ws, "TX-03", "nam-2025", PROPOSALS, datetime(2025, 12, 10, 9, tzinfo=VN), "a.xlsx")
    team = next(r for r in awards.proposals(ws, "nam-2025") if r["subject_type"] == "Tập thể")
    m = awards.open_meeting(ws, "nam-2025", date(2025, 12, 22), ["Nguyễn Văn Hùng"], "vhxh")
    awards.decide(ws, m["id"], [team["id"]], True, 6, None, "vhxh")
    awards.record_document(
        ws, "nam-2025", [team["id"]], "da-khen-thuong", "12/QĐ-UBND", date(2025, 12, 23), "vhxh"
    )
    # by hand: one at the CLI, two from a danh sách
    out = run(
        app,
        ["khen-thuong", "register", "add", "--name", "Lê Thị Thu", "--subject", "Cá nhân"]
        + ["--form", "Giấy khen", "--number", "7/QĐ-UBND", "--date", "15/03/2026"]
        + ["--birth-year", "1988", "--gender", "Nữ", "--by", "vhxh"],
    )
    assert out.exit_code == 0, out.output
    good = tmp_path / "danh-sach.xlsx"
    danh_sach(
        good,
        [
            (
                "Phạm Văn Hải",
                "Cá nhân",
                1979,
                "Nam",
                "Trưởng thôn",
                "Thôn 5",
                "Giấy khen",
                "20/QĐ-UBND",
                datetime(2026, 6, 1),
                "nam-2026",
                "Tích cực",
            ),
            (
                "Hộ ông Đỗ Văn Tư",
                "Hộ gia đình",
                None,
                None,
                None,
                "Thôn 2",
                "Giấy khen",
                "20/QĐ-UBND",
                "01/06/2026",
                None,
                None,
            ),
            (
                "Hợp tác xã Đông Hòa",
                "Tập thể",
                None,
                None,
                None,
                None,
                "Bằng khen của Chủ tịch UBND tỉnh",
                "1234/QĐ-UBND",
                "10/01/2027",
                None,
                None,
            ),
        ],
    )
    bad = tmp_path / "sai.xlsx"
    danh_sach(
        bad,
        [
            ("Trần Văn Ba", "Cá nhân", 1980, "Nam", None, None, "Giấy khen", "1/QĐ", "01/02/2026"),
            (
                "Vũ Văn Cư",
                "Cá nhân",
                1980,
                "Nam",
                None,
                None,
                "Cờ thi đua của UBND tỉnh",
                "2/QĐ",
                "01/02/2026",
            ),
            ("Vũ Thị Dung", "Cá nhân", 19, "Bà", None, None, "Giấy khen", None, None),
        ],
    )
    refused = run(app, ["khen-thuong", "register", "import", str(bad)])
    assert refused.exit_code == 1
    assert "Dòng 3: “Cờ thi đua của UBND tỉnh” không tặng cho cá nhân" in refused.stderr
    assert "Dòng 4: cần số và ngày quyết định" in refused.stderr
    assert "năm sinh “19”" in refused.stderr and "giới tính phải là Nam hoặc Nữ" in refused.stderr
    assert "Dòng 2" not in refused.stderr
    assert len(entries(ws)) == 2  # nothing of the wrong file was entered
    out = run(app, ["khen-thuong", "register", "import", str(good), "--by", "vhxh"])
    assert out.exit_code == 0 and "Đã ghi 3 khen thưởng" in out.stdout

    listed = json.loads(run(app, ["khen-thuong", "register", "list", "--json"]).stdout)
    assert [(r["name"], r["origin"]) for r in listed] == [
        ("Tổ công nghệ số Thôn 3", "thidua"),
        ("Lê Thị Thu", "nhap-tay"),
        ("Hộ ông Đỗ Văn Tư", "danh-sach.xlsx"),
        ("Phạm Văn Hải", "danh-sach.xlsx"),
        ("Hợp tác xã Đông Hòa", "danh-sach.xlsx"),
    ]
    assert listed[1] | {"recorded_at": None} == listed[1] | {
        "birth_year": 1988,
        "gender": "Nữ",
        "doc_no": "7/QĐ-UBND",
        "doc_date": "2026-03-15",
        "actor": "vhxh",
        "reward_form": "giay-khen-xa",
        "recorded_at": None,
    }
    assert listed[0]["doc_no"] == "12/QĐ-UBND" and listed[0]["unit_code"] == "TX-03"

    # tổng kết: by form (highest first) and subject, totals add up, and the genders
    final = run_phase(ws, 2, date(2030, 10, 20)).files["docx"]
    assert phase_table(final) == [
        ["Hình thức khen thưởng", "Tập thể", "Cá nhân", "Hộ gia đình", "Tổng"],
        ["Bằng khen của Chủ tịch UBND tỉnh", "1", "0", "0", "1"],
        ["Giấy khen của Chủ tịch UBND xã", "1", "2", "1", "4"],
        ["Cộng", "2", "2", "1", "5"],
    ]
    text = docx_text(final)
    assert "đã khen thưởng 5 lượt (2 tập thể, 2 cá nhân, 1 hộ gia đình):" in text
    assert "Trong 2 cá nhân được khen thưởng: 1 nam, 1 nữ." in text
    # the sơ kết counts what was decided by its report's date, without gender figures
    early = run_phase(ws, 1, date(2026, 12, 31)).files["docx"]
    assert phase_table(early)[-1] == ["Cộng", "1", "2", "1", "4"]
    assert "được khen thưởng:" not in docx_text(early)


def test_an_earlier_award_warns_the_council(workspace, monkeypatch):
    from helpers import HASH, SECRET, client, login, officer_csrf
    from typer.testing import CliRunner

    from apps.cli import app
    from pipeline.register import add
    from thidua.register import check_entry
    from thidua.rules import fmt
    from thidua.workspace import Workspace

    monkeypatch.setenv("THIDUA_WEB_SECRET_KEY", SECRET)
    monkeypatch.setenv("THIDUA_WEB_OFFICER_PASSWORD_HASH", HASH)
    ws = Workspace.from_env()

    def award(name: str, form: str, day: str) -> None:
        raw = {"name": name, "subject_type": "Cá nhân", "reward_form": form}
        add(ws, [check_entry(ws.config, raw | {"doc_no": "9/QĐ-UBND", "doc_date": day}, "x")], "t")

    award("Nguyễn Thị Hoa", "Giấy khen", "20/12/2025")  # the same form, an earlier cycle
    award("Trần Văn Nam", "Giấy khen", "20/12/2025")  # a lower form than he is proposed
    due = ws.config.cycle("nam-2026").due
    late = datetime(due.year, due.month, due.day, 9, tzinfo=VN) + timedelta(days=3)
    send(ws, "TX-03", "nam-2026", PROPOSALS, late, "tx03.xlsx")
    rows = {r["name"]: r for r in awards.proposals(ws, "nam-2026")}
    warning = (
        "Đã được tặng Giấy khen của Chủ tịch UBND xã (Quyết định số 9/QĐ-UBND ngày "
        "20/12/2025) trong cùng giai đoạn"
    )
    assert rows["Nguyễn Thị Hoa"]["warning"].startswith(warning)
    assert rows["Trần Văn Nam"]["warning"] is None
    assert rows["Trần Văn Nam"]["history"] == [
        "Giấy khen của Chủ tịch UBND xã (Quyết định số 9/QĐ-UBND ngày 20/12/2025)"
    ]
    listed = json.loads(
        CliRunner().invoke(app, ["khen-thuong", "list", "nam-2026", "--json"]).stdout
    )
    assert next(r for r in listed if r["name"] == "Nguyễn Thị Hoa")["warning"].startswith(warning)

    # the council page: lateness, data quality and block score beside each proposal
    c = client(ws)
    login(c)
    page = c.get("/officer/khen-thuong/nam-2026")
    assert page.status_code == 200
    units = awards.standing(ws, "nam-2026")
    tx03 = units["TX-03"]
    assert tx03["status"] == "late" and tx03["days_late"] == 3
    hoa = page.text[page.text.index(f'id="p-{rows["Nguyễn Thị Hoa"]["id"]}"') :]
    hoa = hoa[: hoa.index("</tr>")]
    assert "Nộp muộn (3 ngày)" in hoa
    assert f"{fmt(tx03['quality'])} điểm" in hoa
    assert f"{fmt(tx03['score'])} (hạng {int(tx03['rank_in_block'])}" in hoa
    assert warning in hoa and "Quyết định số 9/QĐ-UBND" in hoa

    # the officer's form enters an award decided outside thidua, checked like a row
    csrf = officer_csrf(c, "/officer/khen-thuong/nam-2026/so")
    entry = {"csrf": csrf, "name": "Vũ Văn Cư", "subject_type": "Cá nhân", "gender": "Nam"}
    entry |= {"doc_no": "3/QĐ-UBND", "doc_date": "02/02/2026"}
    bad = c.post(
        "/officer/khen-thuong/nam-2026/so", data=entry | {"reward_form": "Cờ thi đua của UBND tỉnh"}
    )
    assert bad.status_code == 400
    assert "Khen thưởng nhập tay: “Cờ thi đua của UBND tỉnh” không tặng cho cá nhân" in bad.text
    ok = c.post("/officer/khen-thuong/nam-2026/so", data=entry | {"reward_form": "Giấy khen"})
    assert ok.status_code == 303
    shown = c.get("/officer/khen-thuong/nam-2026/so").text
    assert "Vũ Văn Cư" in shown and "02/02/2026" in shown and "officer" in shown

    # the biên bản carries the warning the council saw
    m = awards.open_meeting(ws, "nam-2026", date(2026, 12, 28), ["Nguyễn Văn Hùng"], "vhxh")
    awards.decide(ws, m["id"], [rows["Nguyễn Thị Hoa"]["id"]], False, 2, "Đã khen", "vhxh")
    minutes = docx_text(awards.documents(ws, "nam-2026", date(2026, 12, 28), m["id"])["bien-ban"])
    assert f"Đã khen; {warning}" in minutes

    # the rule is configurable: within the same cycle only, the 2025 award does not warn
    monkeypatch.setenv("THIDUA_AWARDS_REPEAT_WITHIN", "cycle")
    rows = {r["name"]: r for r in awards.proposals(Workspace.from_env(), "nam-2026")}
    assert rows["Nguyễn Thị Hoa"]["warning"] is None and rows["Nguyễn Thị Hoa"]["history"]


def test_days_late_count_from_the_first_accepted_version(workspace):
    """A unit 3 days late that sends a correction a week later is still 3 days late on
    the council's page, not 10: lateness is when it first reported."""
    due = workspace.config.cycle("nam-2026").due
    late = datetime(due.year, due.month, due.day, 9, tzinfo=VN) + timedelta(days=3)
    send(workspace, "TX-03", "nam-2026", PROPOSALS, late, "tx03.xlsx")
    send(workspace, "TX-03", "nam-2026", PROPOSALS[:1], late + timedelta(days=7), "tx03-sua.xlsx")
    with connect(workspace.paths.warehouse, read_only=True) as con:
        versions = con.execute(
            "SELECT count(*) FROM submissions WHERE unit_code = 'TX-03' AND outcome LIKE 'accepted%'"
        ).fetchone()
    assert versions == (2,)
    tx03 = awards.standing(workspace, "nam-2026")["TX-03"]
    assert (tx03["status"], tx03["days_late"]) == ("late", 3)


def test_synthetic_individuals_carry_birth_year_and_gender(cfg):
    """The demo's and the phase play's danh sách and gender figures are not empty."""
    from apps.synthetic import proposal_rows

    cycle = cfg.cycle("nam-2025")
    rows = [r for u in cfg.expected_units(cycle) for r in proposal_rows(cycle, cfg, u)]
    people = [r for r in rows if r[0] == "Cá nhân"]
    assert len(people) >= 5
    assert all(1965 <= r[5] <= 2000 and r[6] in ("Nam", "Nữ") for r in people)
    assert {r[6] for r in people} == {"Nam", "Nữ"}


def test_a_form_decided_here_names_the_tiers_chairman():
    """A form the tier decides itself cannot be sent up: the refusal names who decides
    it: the commune's chairman at the commune, the province's at the province."""
    from thidua.awards import AwardRefused, check_change

    for chairman in ("Chủ tịch UBND xã", "Chủ tịch UBND tỉnh"):
        with pytest.raises(AwardRefused) as refused:
            check_change("hoi-dong-dong-y", "da-trinh", "xa", None, "12/TTr", chairman)
        assert str(refused.value).startswith(f"hình thức này thuộc thẩm quyền {chairman}:")
