"""Annual and phase rollups on a hand-built dataset: every figure computed by hand here
and read back from the produced files (xlsx via openpyxl, docx, PNG, Parquet, DuckDB)."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from pipeline.init import init_workspace
from pipeline.rollup import run_annual, run_phase
from thidua.rollup import contents as plan
from thidua.rollup.model import percent_vi
from thidua.settings import REPO_CONFIG
from thidua.workspace import Workspace
from warehouse.db import connect
from warehouse.writer import open_meeting, record_proposal_change

# CQ-A is the public-service centre (tag mot-cua): HC01-HC03 apply to it alone, so the
# HC01/HC02 that CQ-B and CQ-C carry in the warehouse below are never counted.
UNITS = """code,name,kind,block,email,head_title,head_email,tags
CQ-A,Phòng A,co_quan,chinh_quyen,a@x.example,Trưởng phòng,ha@x.example,mot-cua
CQ-B,Phòng B,co_quan,chinh_quyen,b@x.example,Trưởng phòng,hb@x.example,
CQ-C,Phòng C,co_quan,chinh_quyen,c@x.example,Trưởng phòng,hc@x.example,
TX-1,Thôn Một,thon_xom,thon_xom,t1@x.example,Trưởng thôn,h1@x.example
TX-2,Thôn Hai,thon_xom,thon_xom,t2@x.example,Trưởng thôn,h2@x.example
MT-1,Hội Nông dân,mat_tran_doan_the,mat_tran_doan_the,m1@x.example,Chủ tịch,hm@x.example
"""
TZ = timezone(timedelta(hours=7))
ON_TIME, LATE = datetime(2025, 12, 19, 9, tzinfo=TZ), datetime(2025, 12, 28, 9, tzinfo=TZ)

# (submission_id, unit, cycle, version, received_at, outcome, late, n_warnings, values)
SUBMISSIONS = [
    (
        "a1",
        "CQ-A",
        "nam-2025",
        1,
        ON_TIME,
        "accepted",
        False,
        0,
        {"TS01": 100, "BD02": 50, "HC01": 200, "HC02": 150, "HC04": 80, "TT01": 5},
    ),
    (
        "b1",
        "CQ-B",
        "nam-2025",
        1,
        ON_TIME,
        "accepted",
        False,
        0,
        {"TS01": 999, "BD02": 1, "HC01": 999, "HC02": 1, "HC04": 1, "TT01": 99},
    ),
    (
        "b2",
        "CQ-B",
        "nam-2025",
        2,
        LATE,
        "accepted_with_warnings",
        True,
        1,
        {"TS01": 300, "BD02": 60, "HC01": 100, "HC02": 100, "HC04": 40, "TT01": 3},
    ),
    ("c1", "CQ-C", "nam-2025", 1, ON_TIME, "rejected", False, 0, {}),
    (
        "c2",
        "CQ-C",
        "nam-2025",
        2,
        LATE,
        "accepted_with_warnings",
        True,
        1,
        {"TS01": 50, "BD02": 50, "HC01": 0, "HC02": 0, "HC04": 100, "TT01": 2},
    ),
    (
        "t1",
        "TX-1",
        "nam-2025",
        1,
        ON_TIME,
        "accepted",
        False,
        0,
        {"TS01": 1000, "BD02": 100, "TX01": 400, "TX02": 200, "TX04": 500, "TT01": 4},
    ),
    (
        "t2",
        "TX-2",
        "nam-2025",
        1,
        ON_TIME,
        "accepted_with_warnings",
        False,
        2,
        {"TS01": 500, "BD02": 100, "TX01": 100, "TX02": 100, "TT01": 6},
    ),
    ("t3", "TX-2", "nam-2025", 2, LATE, "rejected", True, 0, {}),  # t2 still counts
    # nam-2026: two units; nam-2027: none.  Plan targets for 2027.
    (
        "a26",
        "CQ-A",
        "nam-2026",
        1,
        ON_TIME + timedelta(days=365),
        "accepted",
        False,
        0,
        {"TS01": 120, "TT01": 7, "HC04": 60},
    ),
    (
        "t26",
        "TX-1",
        "nam-2026",
        1,
        ON_TIME + timedelta(days=365),
        "accepted",
        False,
        0,
        {"TS01": 1100, "TT01": 3},
    ),
    (
        "kha",
        "CQ-A",
        "ke-hoach-2025",
        1,
        datetime(2025, 9, 1, tzinfo=TZ),
        "accepted",
        False,
        0,
        {"TS01": 150, "TT01": 20},
    ),
    (
        "kht",
        "TX-1",
        "ke-hoach-2025",
        1,
        datetime(2025, 9, 1, tzinfo=TZ),
        "accepted",
        False,
        0,
        {"TS01": 1200, "TT01": 20},
    ),
]
PROPOSALS = [
    ("a1", 1, "Tập thể", "Phòng A", "giay-khen-xa"),
    ("a1", 2, "Cá nhân", "Nguyễn Văn Bình", "giay-khen-xa"),
    ("b1", 1, "Cá nhân", "Bản cũ, không tính", "bang-khen-tinh"),
    ("t1", 1, "Cá nhân", "Trần Thị Cúc", "bang-khen-tinh"),
]
INITIATIVES = [("a1", 1, "Số hoá hồ sơ"), ("t2", 1, "Zalo thôn"), ("t2", 2, "QR thanh toán")]
# ThongTin narrative fields (issue 12), b1's superseded by b2 (which has none).
NARRATIVES = [
    ("a1", "tom_tat", "Tiếp nhận 75% hồ sơ trực tuyến"),
    ("t1", "mo_hinh", "Tổ công nghệ số cộng đồng đến từng hộ"),
    ("a1", "kho_khan", "Thiếu máy scan để số hoá hồ sơ"),
    ("t2", "de_xuat", "Hỗ trợ kinh phí lắp wifi nhà văn hoá thôn"),
    ("b1", "kho_khan", "Bản cũ, không tính"),
    ("t1", "kho_khan", "Không có."),  # nothing to say (issue 21): not quoted
]


@pytest.fixture
def small_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A fresh workspace on the repo config with a 6-unit registry and the dataset above."""
    config = tmp_path / "config"
    shutil.copytree(REPO_CONFIG, config)
    (config / "units.csv").write_text(UNITS, encoding="utf-8")
    monkeypatch.setenv("THIDUA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("THIDUA_CONFIG", str(config))
    ws = Workspace.from_env()
    init_workspace(ws)
    with connect(ws.paths.warehouse) as con:
        for sid, unit, cycle, version, at, outcome, late, warns, values in SUBMISSIONS:
            con.execute(
                "INSERT INTO submissions (submission_id, unit_code, cycle_id, version, "
                "received_at, outcome, late, n_warnings, file_format, batch_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'xlsx', 'test')",
                [sid, unit, cycle, version, at, outcome, late, warns],
            )
            measure = "target_2027" if cycle.startswith("ke-hoach") else "value"
            for i, (code, value) in enumerate(values.items()):
                con.execute(
                    "INSERT INTO submission_values (submission_id, indicator_code, "
                    "measure, value, cell) VALUES (?, ?, ?, ?, ?)",
                    [sid, code, measure, value, f"ChiTieu!D{7 + i}"],
                )
        con.execute(
            "UPDATE submission_values v SET sk = s.sk FROM submissions s "  # as loaded
            "WHERE s.submission_id = v.submission_id"
        )
        for sid, row, subject, name, form in PROPOSALS:
            con.execute(
                "INSERT INTO proposals (submission_id, row_no, subject_type, name, position, "
                "reward_form, summary, cell) VALUES (?, ?, ?, ?, 'Cán bộ', ?, 'Tốt', ?)",
                [sid, row, subject, name, form, f"DeNghiKhenThuong!E{4 + row}"],
            )
        # the Hội đồng Thi đua – Khen thưởng xã approved every proposal (issue 22)
        meeting = open_meeting(con, "nam-2025", date(2025, 12, 22), ["Chủ tịch"], 7, "test")
        ids = [r[0] for r in con.execute("SELECT id FROM proposal_states").fetchall()]
        record_proposal_change(
            con,
            ids,
            "de-xuat",
            {
                "to_state": "hoi-dong-dong-y",
                "actor": "test",
                "meeting_id": meeting,
                "votes_for": 6,
                "members": 7,
            },
        )
        for sid, key, text in NARRATIVES:
            con.execute(
                "INSERT INTO submission_info VALUES (?, ?, ?, 'ThongTin!C11')", [sid, key, text]
            )
        for sid, row, title in INITIATIVES:
            con.execute(
                "INSERT INTO initiatives VALUES (?, ?, ?, 'Tác giả', 'CĐS', "
                "'01/2025', 'Tốt', 'Cơ sở', ?)",
                [sid, row, title, f"SangKien!B{4 + row}"],
            )
    return ws


def rows_by_key(ws, col: int = 1) -> dict:
    """Rows of a sheet keyed by the text in column `col` (1-based) — first match wins."""
    out = {}
    for row in ws.iter_rows(values_only=True):
        key = row[col - 1]
        if isinstance(key, str):
            out.setdefault(key, row)
    return out


def test_annual_rollup_figures_read_back_from_xlsx(small_ws):
    from openpyxl import load_workbook

    result = run_annual(small_ws, 2025, today=date(2026, 1, 5))
    wb = load_workbook(result.files["xlsx"])
    assert wb.sheetnames == [
        "TongHop",
        "TheoKhoi",
        "TheoDonVi",
        "SangKien",
        "KhenThuong",
        "ChuaNop",
    ]

    # Completeness: 6 expected; CQ-C only late (v1 rejected), MT-1 missing.
    top = rows_by_key(wb["TongHop"])
    assert top["Toàn xã (Phong Doanh)"][1:8] == (
        6,
        5,
        4,
        1,
        1,
        round(500 / 6, 2),
        round(400 / 6, 2),
    )
    kinds = small_ws.config.settings.kinds
    assert top[kinds["co_quan"]][1:8] == (3, 3, 2, 1, 0, 100, round(200 / 3, 2))
    assert top[kinds["mat_tran_doan_the"]][1:8] == (1, 0, 0, 0, 1, 0, 0)

    # Indicator totals from the counted versions (b2, not b1; c2; rejected c1 ignored),
    # per criteria group of the plan (issue 12: TS01 counts staff in offices, residents in
    # villages; never summed across), groups in the plan's order under headings.
    sections, ind = [], {}
    for r in wb["TongHop"].iter_rows(values_only=True):
        if isinstance(r[0], str) and r[0].startswith("II."):
            sections.append(r[0])
        elif sections and r[0] in ("TS01", "BD02", "HC01", "HC04", "TX04", "DN02"):
            ind[(len(sections), r[0])] = r
    assert [t.split(" – ")[1][:2] for t in sections] == ["a)", "b)", "Đố"]  # no DN unit
    assert ind[(1, "TS01")][3:6] == (3, 3, 100 + 300 + 50)
    assert ind[(3, "TS01")][3:6] == (2, 2, 1000 + 500)
    assert ind[(2, "TS01")][3:6] == (1, 0, None)  # MT-1 missing
    # HC01 only over the unit that receives dossiers (CQ-A, mot-cua): not CQ-B's 100
    assert ind[(1, "HC01")][3:6] == (1, 1, 200)
    assert ind[(1, "HC04")][5] == round((80 * 100 + 40 * 300 + 100 * 50) / 450, 2)
    assert ind[(3, "TX04")][3:6] == (2, 1, 500)
    assert not any(code == "DN02" for _, code in ind)  # no business expected

    # Ratios: each over one kind; TX04/TS01 only over the unit reporting TX04 (TX-1).
    ratios = {
        r[0]: r
        for r in wb["TongHop"].iter_rows(values_only=True)
        if r[0] in ("ho_so_truc_tuyen", "ky_nang_so", "bang_rong", "vneid_muc_2", "ky_nang_so_dan")
    }
    assert ratios["ho_so_truc_tuyen"][3:7] == (1, 150, 200, 75)  # CQ-A alone
    assert ratios["ky_nang_so"][6] == round(100 * 160 / 450, 2)  # offices' staff only
    assert ratios["ky_nang_so_dan"][3:7] == (2, 200, 1500, round(100 * 200 / 1500, 2))
    assert ratios["ky_nang_so"][7] == small_ws.config.settings.kinds["co_quan"]
    assert ratios["bang_rong"][6] == 60
    assert ratios["vneid_muc_2"][3:7] == (1, 500, 1000, 50)

    # Scores: cume_dist percentile ranks within the block, by hand (columns: 5 unit
    # columns, one per ratio of [rollup] ratios (6), then the scores).
    units = rows_by_key(wb["TheoDonVi"], col=3)
    # Issue 12: a unit is ranked on every ratio that applies to it (CQ-A, the centre: 2;
    # the other offices only ky_nang_so, HC02/HC01 not being theirs; thon_xom 3), an
    # empty one counting 0 (TX-2 has no TX04); lateness costs points once, in timeliness:
    # the `late` warning of b2 and c2 does not lower data quality.
    perf = {
        "CQ-A": (1 + 2 / 3) / 2,
        "CQ-B": 1 / 3,
        "CQ-C": 1.0,
        "TX-1": (0.5 + 0.5 + 1) / 3,
        "TX-2": (1 + 1 + 0) / 3,
        "MT-1": 0.0,
    }
    time = {"CQ-A": 20, "CQ-B": 20, "CQ-C": 10, "TX-1": 20, "TX-2": 20, "MT-1": 0}
    quality = {"CQ-A": 10, "CQ-B": 10, "CQ-C": 10, "TX-1": 10, "TX-2": 5, "MT-1": 0}
    rank = {"CQ-C": 1, "CQ-A": 2, "CQ-B": 3, "TX-1": 1, "TX-2": 2, "MT-1": 1}
    for code, rank_pr in perf.items():
        row = units[code]
        p = round(70 * rank_pr, 2)
        assert row[11:15] == (
            time[code],
            quality[code],
            p,
            round(time[code] + quality[code] + p, 2),
        ), code
        assert row[1] == rank[code], code
    assert units["CQ-B"][15] == 2 and units["CQ-B"][18] == "b2"  # counted version
    assert units["CQ-B"][5:7] == (None, 20)  # its ratios: HC02/HC01 not its
    assert units["CQ-A"][5] == 75

    # Missing and late units; proposals tallied by form (superseded b1 not counted).
    chua = {r[0]: r for r in wb["ChuaNop"].iter_rows(values_only=True)}
    order = list(chua)
    assert order.index("MT-1") < order.index("Nộp muộn") < order.index("CQ-C")
    assert chua["CQ-C"][4:7] == ("Nộp muộn", 2, datetime(2025, 12, 28, 9, 0))  # local time
    # Issue 12: the chairman's own Giấy khen apart from the proposals upward.
    tally = rows_by_key(wb["KhenThuong"])
    assert tally["giay-khen-xa"][2:7] == ("Chủ tịch UBND xã quyết định", 1, 1, 0, 2)
    assert tally["bang-khen-tinh"][2:7] == (
        "Chủ tịch UBND tỉnh quyết định, sau thẩm định của Sở Nội vụ",
        0,
        1,
        0,
        1,
    )
    titles = [r[0] for r in wb["KhenThuong"].iter_rows(values_only=True)]
    assert (
        titles.index("I. Khen thưởng theo thẩm quyền của Chủ tịch UBND xã")
        < titles.index("giay-khen-xa")
        < titles.index("II. Đề nghị cấp trên khen thưởng")
        < titles.index("bang-khen-tinh")
    )
    assert wb["TongHop"]["A1"].value == "BÁO CÁO TỔNG HỢP KẾT QUẢ NĂM 2025"
    assert [r[3] for r in wb["SangKien"].iter_rows(values_only=True) if r[2] in (1, 2)] == [
        "Số hoá hồ sơ",
        "Zalo thôn",
        "QR thanh toán",
    ]


def test_late_unit_keeps_the_data_quality_score_of_an_on_time_unit(small_ws, monkeypatch):
    """Same content (no warning but `late`): same data-quality score; lateness costs only
    timeliness.  With `quality_warnings = "all"` the old double penalty comes back."""
    from openpyxl import load_workbook

    with connect(small_ws.paths.warehouse) as con:  # CQ-C counts c2: late, 1 warning
        assert con.execute(
            "SELECT late, n_warnings FROM submissions WHERE submission_id = 'c2'"
        ).fetchall() == [(True, 1)]
    units = rows_by_key(
        load_workbook(run_annual(small_ws, 2025, today=date(2026, 1, 5)).files["xlsx"])[
            "TheoDonVi"
        ],
        col=3,
    )
    assert units["CQ-C"][11:13] == (10, 10) and units["CQ-A"][11:13] == (20, 10)
    monkeypatch.setenv("THIDUA_SCORING_QUALITY_WARNINGS", "all")
    monkeypatch.setenv("THIDUA_SCORING_EMPTY_RATIO", "skip")
    units = rows_by_key(
        load_workbook(run_annual(Workspace.from_env(), 2025, today=date(2026, 1, 5)).files["xlsx"])[
            "TheoDonVi"
        ],
        col=3,
    )
    assert units["CQ-C"][11:14] == (10, 5, 70.0)  # ranked only on the ratio it has


def test_annual_rollup_files_provenance_and_versions(small_ws):
    from docx import Document

    first = run_annual(small_ws, 2025, today=date(2026, 1, 5))
    second = run_annual(small_ws, 2025, today=date(2026, 1, 5))
    assert (first.rollup_id, second.rollup_id) == ("nam-2025-v1", "nam-2025-v2")
    assert first.output_dir != second.output_dir and first.files["xlsx"].exists()
    with connect(small_ws.paths.warehouse, read_only=True) as con:
        sources = con.execute(
            "SELECT rollup_id, list(submission_id ORDER BY submission_id) "
            "FROM rollup_sources GROUP BY 1 ORDER BY 1"
        ).fetchall()
        versions = con.execute("SELECT version, output_dir FROM rollups ORDER BY 1").fetchall()
    assert sources == [(r, ["a1", "b2", "c2", "t1", "t2"]) for r in ("nam-2025-v1", "nam-2025-v2")]
    assert versions == [(1, str(first.output_dir)), (2, str(second.output_dir))]

    text = "\n".join(p.text for p in Document(first.files["docx"]).paragraphs)
    cells = "\n".join(
        c.text for t in Document(first.files["docx"]).tables for row in t.rows for c in row.cells
    )
    for part in (
        "ỦY BAN NHÂN DÂN",
        "XÃ PHONG DOANH",
        "Số:      /BC-UBND",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Phong Doanh, ngày 05 tháng 01 năm 2026",
        "Nơi nhận:",
        "- Lưu: VT, VHXH.",
        "TM. ỦY BAN NHÂN DÂN",
        "KT. CHỦ TỊCH",
        "PHÓ CHỦ TỊCH",
        "Ngô Ngọc Quang",
        "- Như trên;",
    ):
        assert part in cells, part
    assert cells.index("Nơi nhận:") < cells.index("- Như trên;") < cells.index("- Lưu: VT")
    for part in (
        "BÁO CÁO",
        "Kết quả thực hiện Phong trào thi đua",
        "năm 2025",
        "Kính gửi: Sở Nội vụ tỉnh Ninh Bình",
        "Căn cứ Luật Thi đua, khen thưởng",
        "đã nộp 5 (tỷ lệ 83,33%)",
        "nộp muộn: 1; chưa nộp: 1",
    ):
        assert part in text, part
    # Issue 12: no internal id in the body (it stays in the workbook and the warehouse).
    assert "nam-2025" not in text and "mã tổng hợp" not in text

    for png in first.output_dir.joinpath("charts").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list(first.output_dir.joinpath("charts").glob("*.png"))) == 2
    parquet = pd.read_parquet(first.output_dir / "data" / "units.parquet")
    assert parquet.set_index("code").loc["CQ-C", "status"] == "late"
    csv = pd.read_csv(first.output_dir / "data" / "sources.csv", encoding="utf-8-sig")
    assert sorted(csv["submission_id"]) == ["a1", "b2", "c2", "t1", "t2"]
    assert csv["received_at"].str.endswith("+07:00").all()  # local time


def test_annual_report_is_a_report_in_the_plans_structure(small_ws):
    """Six sections of plan VI, the data period, who issued plans, the units' own words,
    awards split by authority, criteria groups in the plan's order, Vietnamese numbers."""
    from docx import Document

    doc = Document(run_annual(small_ws, 2025, today=date(2026, 1, 5)).files["docx"])
    paras = [p.text for p in doc.paragraphs]
    text = "\n".join(paras)
    heads = [
        p.text
        for p in doc.paragraphs
        if p.runs and p.runs[0].bold and p.text[:3] in ("I. ", "II.", "III", "IV.", "V. ", "VI.")
    ]
    assert heads == [
        "I. CÔNG TÁC CHỈ ĐẠO, TỔ CHỨC TRIỂN KHAI",
        "II. KẾT QUẢ THỰC HIỆN",
        "III. MÔ HÌNH, CÁCH LÀM HAY",
        "IV. CÔNG TÁC KHEN THƯỞNG",
        "V. KHÓ KHĂN, VƯỚNG MẮC VÀ NGUYÊN NHÂN",
        "VI. PHƯƠNG HƯỚNG, NHIỆM VỤ VÀ ĐỀ XUẤT, KIẾN NGHỊ",
    ]
    assert "Số liệu tính từ ngày 21/08/2025 đến ngày 14/12/2025" in text
    assert "Hình 1. Tỷ lệ nộp báo cáo theo khối thi đua (21/08/2025 – 14/12/2025)" in text
    # Plans: CQ-A and TX-1 sent ke-hoach-2025 without the plan document: only targets
    # (issue 21: was "Đã có 2/6 … ban hành kế hoạch"); the 4 others are named.
    assert (
        "Trong 6 cơ quan, đơn vị, thôn, xóm và doanh nghiệp: 0 đơn vị đã ban hành kế hoạch "
        "thực hiện Phong trào thi đua (có văn bản) và đăng ký chỉ tiêu; 2 đơn vị mới đăng ký "
        "chỉ tiêu (Phòng A; Thôn Một); 4 đơn vị chưa đăng ký (Phòng B; Phòng C; Hội Nông dân; "
        "Thôn Hai)."
    ) in text
    section = {h: i for i, h in enumerate(paras) if h in heads}

    def between(a: str, b: str) -> str:
        return "\n".join(paras[section[a] + 1 : section[b]])

    models = between(heads[2], heads[3])
    assert "- Thôn Một: Tổ công nghệ số cộng đồng đến từng hộ" in models
    # "tên – tác giả, đơn vị – hiệu quả" (issue 21; was "Zalo thôn (Thôn Hai)")
    assert "- Zalo thôn – Tác giả, Thôn Hai – Tốt (công nhận cơ sở)." in models
    awards = between(heads[3], heads[4])
    assert (
        awards.index("1. Khen thưởng theo thẩm quyền")
        < awards.index(
            "Hội đồng đề nghị Chủ tịch UBND xã tặng Giấy khen của Chủ tịch UBND xã cho 1 tập "
            "thể, 1 cá nhân"
        )
        < awards.index("2. Đề nghị cấp trên khen thưởng")
        < awards.index(
            "Đề nghị tặng Bằng khen của Chủ tịch UBND tỉnh cho 1 cá nhân (Chủ tịch UBND tỉnh "
            "quyết định, sau thẩm định của Sở Nội vụ)"
        )
    )
    assert "- Phòng A: Thiếu máy scan để số hoá hồ sơ" in between(heads[4], heads[5])
    assert "Bản cũ" not in text and "Không có." not in text
    assert "- Thôn Hai: Hỗ trợ kinh phí lắp wifi nhà văn hoá thôn" in text
    assert "- Phòng A: Tiếp nhận 75% hồ sơ trực tuyến" in between(heads[1], heads[2])
    results = between(heads[1], heads[2])
    groups = [
        p for p in results.split("\n") if p.startswith(("a) ", "b) ", "c) ", "d) ", "Đối với"))
    ]
    assert groups == [
        "a) Đối với các ban, ngành, cơ quan, đơn vị",
        "b) Đối với Ủy ban Mặt trận Tổ quốc Việt Nam xã và các tổ chức xã hội",
        "Đối với các thôn, xóm",
        "d) Đối với cá nhân",
    ]
    assert "tỷ lệ cán bộ, công chức, viên chức được bồi dưỡng kỹ năng số đạt 35,6%" in results
    # the indicator tables: one per group, TS01 per kind, Vietnamese number format
    # (numbered, no indicator code in the signed docx: issue 21; rates with "%")
    tables = [
        t for t in doc.tables if [c.text for c in t.rows[0].cells][3:4] == ["Số đơn vị báo cáo"]
    ]
    assert all(t.rows[0].cells[0].text == "STT" for t in tables)
    names = {i.code: i.name_vi for i in small_ws.config.indicators}
    hc04 = [r.cells[4].text for t in tables for r in t.rows if r.cells[1].text == names["HC04"]]
    # TS01 first in each table, named by the kind's population (issue 21)
    ts01 = [(t.rows[1].cells[1].text, t.rows[1].cells[4].text) for t in tables]
    assert ts01 == [
        ("Tổng số CBCCVC, người lao động", "450"),
        ("Tổng số đoàn viên, hội viên", "—"),
        ("Tổng số nhân khẩu từ 15 tuổi trở lên", "1.500"),
    ]
    assert hc04 == [percent_vi(round((80 * 100 + 40 * 300 + 100 * 50) / 450, 2))]
    codes = {i.code for i in small_ws.config.indicators}
    assert not [c.text for t in doc.tables for r in t.rows for c in r.cells if c.text in codes]
    assert "nam-2025" not in text


def phase_rows(sheet, heading: str) -> tuple[dict, dict]:
    """The header (name → column) and rows (code → row) of the TongHop table under the
    section title that contains `heading`."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(n for n, r in enumerate(rows) if heading in str(r[0] or ""))
    header = rows[start + 1]
    body = {}
    for r in rows[start + 2 :]:
        if r[0] is None or str(r[0]).startswith(("II.", "III.")):
            break
        body[r[0]] = r
    return {h: i for i, h in enumerate(header)}, body


def test_phase_rollup_per_kind_years_levels_and_targets(small_ws):
    """Issue 21: every phase table is over one kind (one population): TT01 of the offices
    is 5 + 3 + 2 in 2025 and 7 in 2026, never the commune's mix with the villages; TS01
    (a population) and HC04 (a rate) are the level at the cut-off, never a mean of years;
    only indicators that can have a target (not TS01) are compared with one."""
    from openpyxl import load_workbook

    result = run_phase(small_ws, 1, today=date(2027, 11, 20))
    assert result.rollup_id == "so-ket-2027-v1"
    sheet = load_workbook(result.files["xlsx"])["TongHop"]
    col, offices = phase_rows(sheet, "cơ quan, đơn vị")
    _, villages = phase_rows(sheet, "thôn, xóm")
    # Issue 12: the sơ kết cut-off (31/10/2027) comes before nam-2027 ends: 2025, 2026.
    y25, y26 = col["Năm 2025 (từ 21/08)"], col["Năm 2026"]
    assert "Năm 2027" not in col
    annual = col["Cộng các báo cáo năm (mức năm cuối với số lũy kế, tỷ lệ)"]
    tt, ts, hc = offices["TT01"], offices["TS01"], offices["HC04"]
    assert (tt[y25], tt[y26], tt[annual]) == (10, 7, 17)
    assert (ts[y25], ts[y26], ts[annual]) == (450, 120, 120)
    hc04_2025 = round((80 * 100 + 40 * 300 + 100 * 50) / 450, 2)
    assert (hc[y25], hc[y26], hc[annual]) == (hc04_2025, 60, 60)
    target, pct = col["Chỉ tiêu đăng ký"], col["Đạt so với chỉ tiêu (%)"]
    assert (tt[target], tt[pct]) == (20, 85)
    assert (ts[target], ts[pct]) == (None, None)  # a population has no target
    assert (villages["TT01"][y25], villages["TT01"][annual], villages["TT01"][pct]) == (
        10,
        13,
        65,
    )
    assert villages["TS01"][annual] == 1100
    units = load_workbook(result.files["xlsx"])["TheoDonVi"]
    per_unit = [r for r in units.iter_rows(values_only=True) if r[2] == "TT01"]
    assert [(r[0], r[4], r[5], r[6]) for r in per_unit] == [
        ("CQ-A", 12, 20, 60),
        ("TX-1", 7, 20, 35),
    ]
    assert len(list(result.output_dir.joinpath("charts").glob("*.png"))) == 3
    with connect(small_ws.paths.warehouse, read_only=True) as con:
        n = con.execute(
            "SELECT count(*) FROM rollup_sources WHERE rollup_id = 'so-ket-2027-v1'"
        ).fetchall()[0][0]
    assert n == 5 + 2 + 2  # nam-2025, nam-2026 and the plan's counted versions


def test_annual_rollup_without_submissions(workspace):
    result = run_annual(workspace, 2025, today=date(2026, 1, 5))
    h = result.headline
    # 39 units, of which the 6 invited companies are apart from the commune's rates
    assert (h["expected"], h["submitted"], h["missing"], h["accepted_in_cycle"]) == (33, 0, 33, 0)
    from docx import Document

    text = "\n".join(p.text for p in Document(result.files["docx"]).paragraphs)
    assert (
        "Các doanh nghiệp, hợp tác xã được mời tham gia Phong trào: 0/6 doanh nghiệp, hợp "
        "tác xã tham gia báo cáo (không tính vào tỷ lệ nộp báo cáo của xã nêu trên)."
    ) in text
    assert "số đơn vị phải báo cáo 33;" in text
    phase = run_phase(workspace, 2, today=date(2030, 10, 20))
    assert (phase.rollup_id, phase.headline["sources"]) == ("tong-ket-2030-v1", 0)


def test_values_written_without_sk_stop_the_rollup(small_ws):
    from thidua.errors import UnkeyedValues

    with connect(small_ws.paths.warehouse) as con:
        sid = con.execute("SELECT min(submission_id) FROM submissions").fetchall()[0][0]
        con.execute(
            "INSERT INTO submission_values (submission_id, indicator_code, measure, "
            "value) VALUES (?, 'TS01', 'value', 5)",
            [sid],
        )
    with pytest.raises(UnkeyedValues, match="1 submission values have no sk"):
        run_annual(small_ws, 2025, today=date(2026, 1, 5))


def test_cli_rollup_json_and_errors(small_ws):
    import json

    from typer.testing import CliRunner

    from apps.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["rollup", "annual", "2025", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert (data["rollup_id"], data["headline"]["on_time_rate"]) == (
        "nam-2025-v1",
        round(400 / 6, 2),
    )
    assert data["headline"]["ratios"]["vneid_muc_2"] == 50
    bad = runner.invoke(app, ["rollup", "phase", "3"])
    assert bad.exit_code == 1
    assert bad.stderr == "Error: no phase 3 (known phases: 1, 2)\n"


def test_cli_rollup_email_attaches_the_package(small_ws, smtp_env):
    """`thidua rollup annual --email`: the mail to Sở Nội vụ, received by a real SMTP
    server, carries the package (workbook and manifest) whose sha256 the manifest holds,
    beside the docx and xlsx; the body names them."""
    import hashlib
    import json

    from typer.testing import CliRunner

    from apps.cli import app

    out = CliRunner().invoke(app, ["rollup", "annual", "2025", "--email", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["email"]["ok"]
    [mail] = smtp_env.received
    assert mail.rcpt_tos == ["sonoivu@ninhbinh.example"]
    attached = {
        p.get_filename(): p.get_payload(decode=True) for p in mail.message.iter_attachments()
    }
    book, manifest = (Path(data["files"][k]) for k in ("package", "manifest"))
    assert set(attached) == {
        Path(data["files"]["docx"]).name,
        Path(data["files"]["xlsx"]).name,
        book.name,
        manifest.name,
    }
    listed = json.loads(attached[manifest.name])["files"][book.name]
    assert hashlib.sha256(attached[book.name]).hexdigest() == listed["sha256"]
    assert attached[book.name] == book.read_bytes()
    body = mail.message.get_body(("plain",)).get_content()
    assert f"{book.name} và {manifest.name} (gói số liệu" in body
    plain = CliRunner().invoke(app, ["rollup", "annual", "2025", "--email"])
    assert "Đã gửi thư báo cáo tới Sở Nội vụ tỉnh Ninh Bình" in plain.stdout
    assert (data["email"]["status"], data["email"]["outbox"]) == ("sent", None)
    assert not list(small_ws.paths.outbox.glob("*.eml"))


def test_cli_rollup_email_says_kept_in_the_outbox_or_failed(small_ws, monkeypatch):
    """Issue 24 gap 3: without SMTP settings the report mail is only written to the
    outbox, and `--email` says so with the file's path (not "Đã gửi"); with an SMTP
    server that does not answer, it says it failed and why."""
    import json

    from helpers import free_port
    from typer.testing import CliRunner

    from apps.cli import app

    monkeypatch.delenv("THIDUA_SMTP_HOST", raising=False)
    run = CliRunner().invoke
    data = json.loads(run(app, ["rollup", "annual", "2025", "--email", "--json"]).stdout)
    sent = data["email"]
    [eml] = small_ws.paths.outbox.glob("*.eml")
    assert (sent["status"], sent["outbox"], sent["error"]) == ("outbox", str(eml), None)
    assert sent["to"] == "sonoivu@ninhbinh.example" and sent["message_id"] in eml.read_text()
    plain = run(app, ["rollup", "annual", "2025", "--email"]).stdout
    assert "Đã gửi" not in plain
    assert (
        "Chưa gửi thư báo cáo tới Sở Nội vụ tỉnh Ninh Bình <sonoivu@ninhbinh.example>: chưa "
        "cấu hình máy chủ thư (SMTP), thư được lưu trong hộp thư đi: " in plain
    )
    kept = plain.rsplit("hộp thư đi: ", 1)[1].split()[0]
    assert Path(kept).parent == small_ws.paths.outbox and Path(kept).is_file()
    monkeypatch.setenv("THIDUA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("THIDUA_SMTP_PORT", str(free_port()))  # nobody listens there
    monkeypatch.setenv("THIDUA_SMTP_RETRY_DELAYS", "0")
    out = run(app, ["rollup", "annual", "2025", "--email", "--json"])
    failed = json.loads(out.stdout)["email"]
    assert (failed["status"], failed["ok"], failed["outbox"]) == ("failed", False, None)
    assert failed["error"]
    plain = run(app, ["rollup", "annual", "2025", "--email"]).stdout
    assert (
        "Chưa gửi được thư báo cáo tới Sở Nội vụ tỉnh Ninh Bình <sonoivu@ninhbinh.example>: "
        in plain
    )
    assert "Đã gửi" not in plain and len(list(small_ws.paths.outbox.glob("*.eml"))) == 2


@pytest.mark.slow
def test_annual_rollup_flow_runs_in_prefect_and_mails_the_report(
    small_ws, prefect_harness, smtp_server, monkeypatch
):
    from flows.rollup import annual_rollup

    monkeypatch.setenv("THIDUA_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("THIDUA_SMTP_PORT", str(smtp_server.port))
    out = annual_rollup(2025, send_email=True)
    assert out["rollup_id"] == "nam-2025-v1" and out["email"]["ok"]
    with connect(small_ws.paths.warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM rollup_sources").fetchall() == [(5,)]
    [mail] = smtp_server.received
    assert mail.rcpt_tos == ["sonoivu@ninhbinh.example"]
    msg = mail.message
    assert "nam-2025-v1" in msg["Subject"]
    assert "đã nộp: 5 (83,33%)" in msg.get_body(("plain",)).get_content()
    attached = {p.get_filename(): p.get_payload(decode=True) for p in msg.iter_attachments()}
    # the package for Sở Nội vụ too (issue 24): it was left out before
    assert attached == {
        Path(out["files"][k]).name: Path(out["files"][k]).read_bytes()
        for k in ("docx", "xlsx", "package", "manifest")
    }


def test_prefect_yaml_annual_schedule_is_the_working_day_after_the_deadline(cfg):
    import yaml
    from prefect.client.schemas.schedules import RRuleSchedule

    from thidua.rollup.model import annual_rollup_day

    doc = yaml.safe_load((REPO_CONFIG.parent / "prefect.yaml").read_text(encoding="utf-8"))
    deployments = {d["name"]: d for d in doc["deployments"]}
    assert "schedules" not in deployments["phase-rollup"]
    runs = {}
    for config in deployments["annual-rollup"]["schedules"]:
        schedule = RRuleSchedule(rrule=config["rrule"], timezone=config["timezone"])
        rule = schedule.to_rrule()
        first = rule[0]
        assert (first.hour, first.minute, rule.count()) == (8, 0, 1)
        assert str(schedule.timezone) == "Asia/Ho_Chi_Minh"
        runs[config["parameters"]["year"]] = first.date()
    assert runs == {c.year: annual_rollup_day(cfg, c) for c in cfg.cycles if c.kind == "nam"}
    assert runs[2025] == date(2025, 12, 23)  # due Sat 20/12 → Mon 22/12 → Tue 23/12


def test_phase_rollup_takes_the_units_review_figures_and_cross_checks_them(small_ws):
    """Sơ kết: achieved values come from the units' own so-ket-2027 submissions (TT01
    cumulative to the cut-off, TS01 the level at it), per kind.  The review covers more
    months than the annual reports, so the cross-check runs one way (issue 21): CQ-A's
    rises (TT01 35 ≥ 5 + 7, TS01 130 ≥ 120) pass; TX-1's TT01 below what its annual
    reports already add up to (2 < 4 + 3), its BD02 (people trained, cumulative) below
    its 2025 level (90 < 100) and CQ-A's BD02 above its population (140 > TS01 130) are
    the officer's worklist (doi-chieu-so-ket-2027.xlsx), never the report they send.
    TX-1's TS01 fell (1000 < 1100): a population may."""
    from docx import Document
    from openpyxl import load_workbook

    at = datetime(2027, 11, 10, 9, tzinfo=TZ)
    with connect(small_ws.paths.warehouse) as con:
        for sid, unit, values in (
            ("sa", "CQ-A", {"TS01": 130, "TT01": 35, "BD02": 140}),
            ("st", "TX-1", {"TS01": 1000, "TT01": 2, "BD02": 90}),
        ):
            con.execute(
                "INSERT INTO submissions (submission_id, unit_code, cycle_id, version, "
                "received_at, outcome, late, n_warnings, file_format, batch_id) VALUES "
                "(?, ?, 'so-ket-2027', 1, ?, 'accepted', false, 0, 'xlsx', 'test')",
                [sid, unit, at],
            )
            for code, value in values.items():
                con.execute(
                    "INSERT INTO submission_values (submission_id, indicator_code, "
                    "measure, value, sk) SELECT ?, ?, 'value', ?, sk FROM submissions "
                    "WHERE submission_id = ?",
                    [sid, code, value, sid],
                )
    result = run_phase(small_ws, 1, today=date(2027, 11, 20))
    book = load_workbook(result.files["xlsx"])
    col, offices = phase_rows(book["TongHop"], "cơ quan, đơn vị")
    tt, ts = offices["TT01"], offices["TS01"]
    assert tt[col["Cộng các báo cáo năm (mức năm cuối với số lũy kế, tỷ lệ)"]] == 17
    assert tt[col["Kết quả đạt được"]] == 35  # the review's own, offices only
    assert tt[col["Đạt so với chỉ tiêu (%)"]] == round(100 * 35 / 20, 2)
    assert ts[col["Kết quả đạt được"]] == 130
    _, villages = phase_rows(book["TongHop"], "thôn, xóm")
    assert villages["TS01"][col["Kết quả đạt được"]] == 1000
    assert "DoiChieu" not in book.sheetnames  # the worklist never travels with the report
    worklist = load_workbook(result.files["worklist"])["DoiChieu"]
    check = [r for r in worklist.iter_rows(values_only=True) if r[0] in ("CQ-A", "TX-1")]
    assert [(r[0], r[2], r[4], r[5], r[6], r[8]) for r in check] == [
        ("CQ-A", "BD02", 140, 50, 130, "Vượt quá số đối tượng của đơn vị"),
        ("TX-1", "BD02", 90, 100, 1000, "Số lũy kế giảm so với báo cáo năm gần nhất"),
        (
            "TX-1",
            "TT01",
            2,
            7,
            None,
            "Số cộng dồn đến thời điểm chốt thấp hơn tổng các báo cáo năm",
        ),
    ]

    full = pd.read_parquet(result.output_dir / "data" / "review_check.parquet")
    assert full.set_index(["code", "indicator_code"])["flagged"].to_dict() == {
        ("CQ-A", "BD02"): True,
        ("CQ-A", "TS01"): False,
        ("CQ-A", "TT01"): False,
        ("TX-1", "BD02"): True,
        ("TX-1", "TS01"): False,
        ("TX-1", "TT01"): True,
    }
    text = "\n".join(p.text for p in Document(result.files["docx"]).paragraphs)
    # the worklist is not quoted: Thôn Một is named only by the plan count of section I
    assert "xác minh" not in text and text.count("Thôn Một") == 1
    assert "mới đăng ký chỉ tiêu (Phòng A; Thôn Một)" in text
    # issue 21: a review of its own kind: trích yếu, đánh giá chung, bài học, giai đoạn 2
    assert "Sơ kết giai đoạn 1 (2025 - 2027) thực hiện Phong trào thi đua" in text
    for heading in (
        "V. ĐÁNH GIÁ CHUNG",
        "1. Ưu điểm",
        "2. Hạn chế, khó khăn",
        "3. Nguyên nhân",
        "VI. BÀI HỌC KINH NGHIỆM",
        "VII. PHƯƠNG HƯỚNG, NHIỆM VỤ VÀ ĐỀ XUẤT, KIẾN NGHỊ",
        "1. Phương hướng, nhiệm vụ giai đoạn 2 (2028 - 2030)",
        "4. Khen thưởng đã thực hiện trong giai đoạn",
    ):
        assert f"\n{heading}\n" in text, heading
    assert "Số liệu tính từ ngày 21/08/2025 đến ngày 31/10/2027" in text


def test_report_quotes_a_narrative_up_to_the_length_limit(small_ws, monkeypatch):
    """A narrative longer than `[checks] narrative_max_chars` (warned about when it was
    collected) is quoted up to the limit, never beyond."""
    from docx import Document

    monkeypatch.setenv("THIDUA_CHECKS_NARRATIVE_MAX_CHARS", "20")
    doc = Document(run_annual(Workspace.from_env(), 2025, today=date(2026, 1, 5)).files["docx"])
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "- Phòng A: Tiếp nhận 75% hồ sơ…" in text  # 30 characters, cut at 20
    assert "- Phòng A: Thiếu máy scan để số…" in text
    assert "Tiếp nhận 75% hồ sơ trực tuyến" not in text


def test_cli_dates_the_report_marks_drafts_and_keeps_the_officers_edits(small_ws):
    """Issue 21: `--date` dates the docx; a rollup on or before the due date (nam-2026:
    20/12/2026) is a draft on every page and says so; the officer's paragraph written in
    reports/<cycle>/sua-doan-van.yaml replaces the generated one in the next version."""
    import json

    import yaml
    from docx import Document
    from typer.testing import CliRunner

    from apps.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["rollup", "annual", "2026", "--date", "05/01/2027"])
    assert out.exit_code == 0, out.output
    assert "DỰ THẢO" not in out.stdout
    first = small_ws.paths.reports / "nam-2026" / "v1" / "bao-cao-nam-2026.docx"
    doc = Document(first)
    header = "\n".join(c.text for c in doc.tables[0].rows[0].cells)
    assert "Phong Doanh, ngày 05 tháng 01 năm 2027" in header
    texts = "\n".join(p.text for p in doc.paragraphs)
    assert "DỰ THẢO" not in texts
    assert not any(p.text for s in doc.sections for p in s.first_page_header.paragraphs)

    edits = small_ws.paths.reports / "nam-2026" / "sua-doan-van.yaml"
    data = yaml.safe_load(edits.read_text("utf-8"))
    generated = data["chi_dao"]["tu_dong"]
    assert generated in texts and data["chi_dao"]["sua"] == ""
    data["chi_dao"]["sua"] = "Ủy ban nhân dân xã đã chỉ đạo quyết liệt, sát sao."
    edits.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")

    out = runner.invoke(app, ["rollup", "annual", "2026", "--date", "10/12/2026"])
    assert out.exit_code == 0, out.output
    assert "DỰ THẢO – số liệu tạm tính: báo cáo lập ngày 10/12/2026" in out.stdout
    doc = Document(small_ws.paths.reports / "nam-2026" / "v2" / "bao-cao-nam-2026.docx")
    texts = "\n".join(p.text for p in doc.paragraphs)
    assert "Ủy ban nhân dân xã đã chỉ đạo quyết liệt, sát sao." in texts
    assert generated not in texts
    for sec in doc.sections:  # every page: the first page's header and the others'
        for header in (sec.first_page_header, sec.header):
            assert "DỰ THẢO – số liệu tạm tính" in [p.text for p in header.paragraphs]
    kept = yaml.safe_load(edits.read_text("utf-8"))["chi_dao"]
    assert kept == {"tu_dong": generated, "sua": data["chi_dao"]["sua"]}
    now = {"THIDUA_NOW": "2026-12-01T09:00:00+07:00"}  # honoured like every command
    out = runner.invoke(app, ["rollup", "annual", "2026", "--json"], env=now)
    h = json.loads(out.stdout)["headline"]
    assert (h["date"], h["draft"]) == ("2026-12-01", True)
    bad = runner.invoke(app, ["rollup", "annual", "2026", "--date", "2027-01-05"])
    assert bad.exit_code == 2 and "dd/mm/yyyy" in bad.output


def add_submission(con, sid: str, unit: str, cycle: str, values: dict, measure="value") -> None:
    """An accepted, on-time version of a unit's workbook for `cycle`, loaded with its sk."""
    con.execute(
        "INSERT INTO submissions (submission_id, unit_code, cycle_id, version, received_at, "
        "outcome, late, n_warnings, file_format, batch_id) VALUES (?, ?, ?, "
        "(SELECT coalesce(max(version), 0) + 1 FROM submissions WHERE unit_code = ? "
        "AND cycle_id = ?), ?, 'accepted', false, 0, 'xlsx', 'test')",
        [sid, unit, cycle, unit, cycle, datetime(2027, 11, 10, 9, tzinfo=TZ)],
    )
    for n, (code, value) in enumerate(values.items()):
        con.execute(
            "INSERT INTO submission_values (submission_id, indicator_code, measure, value, "
            "cell, sk) SELECT ?, ?, ?, ?, ?, sk FROM submissions WHERE submission_id = ?",
            [sid, code, measure, value, f"ChiTieu!D{7 + n}", sid],
        )


def test_phase_score_measures_performance_against_registered_targets(small_ws):
    """Issue 21 item 8: in the sơ kết, a ratio whose numerator the unit registered a
    target for scores achieved / target (capped at 100 %), the percentile rank only where
    no target was registered.  TX-1 ranks first on every village ratio but reached 90 %,
    97,5 % of its BD02, TX02 targets (none for TX04: its rank, 1); TX-2 ranks second but
    exceeded all three targets: TX-2 scores more and ranks first in its block.  The
    report and TheoDonVi say which method each kind and unit used: the offices (CQ-B's
    review alone, without targets) by rank."""
    from docx import Document
    from openpyxl import load_workbook

    with connect(small_ws.paths.warehouse) as con:
        add_submission(
            con, "st", "TX-1", "so-ket-2027",
            {"TS01": 1000, "TX01": 400, "BD02": 900, "TX02": 390, "TX04": 900, "TT01": 9},
        )  # fmt: skip
        add_submission(
            con, "st2", "TX-2", "so-ket-2027",
            {"TS01": 500, "TX01": 100, "BD02": 300, "TX02": 60, "TX04": 300, "TT01": 9},
        )  # fmt: skip
        add_submission(con, "sb", "CQ-B", "so-ket-2027", {"TS01": 100, "BD02": 50, "TT01": 3})
        targets = "target_2027"
        add_submission(con, "kht2", "TX-1", "ke-hoach-2025", {"BD02": 1000, "TX02": 400}, targets)
        add_submission(
            con, "khx", "TX-2", "ke-hoach-2025", {"BD02": 250, "TX02": 50, "TX04": 250}, targets
        )
    result = run_phase(small_ws, 1, today=date(2027, 11, 20))
    scores = pd.read_parquet(result.output_dir / "data" / "units.parquet").set_index("code")
    tx1, tx2 = scores.loc["TX-1"], scores.loc["TX-2"]
    assert (tx1["n_targets"], tx2["n_targets"]) == (2, 3)
    assert tx1["score_performance"] == round(70 * (0.9 + 0.975 + 1.0) / 3, 2)  # 67.08
    assert tx2["score_performance"] == 70  # capped at the target
    assert tx2["score"] > tx1["score"] and (tx2["rank_in_block"], tx1["rank_in_block"]) == (1, 2)
    ranks = pd.read_parquet(result.output_dir / "data" / "unit_ratios.parquet")
    village_ranks = ranks[ranks["code"].isin(["TX-1", "TX-2"])].groupby("code")
    assert village_ranks["percentile_rank"].min()["TX-1"] == 1.0  # TX-1 leads every ratio
    assert village_ranks["percentile_rank"].max()["TX-2"] == 0.5

    text = "\n".join(p.text for p in Document(result.files["docx"]).paragraphs)
    assert "so với chỉ tiêu đăng ký (tối đa 100%)" in text
    assert "- Thôn, xóm: so với chỉ tiêu đã đăng ký ở 2/2 đơn vị;" in text
    assert (
        "- Cơ quan, đơn vị: theo thứ hạng các tỷ lệ so với các đơn vị cùng khối (không đơn vị "
        "nào đăng ký chỉ tiêu cho các tỷ lệ)." in text  # CQ-B's review, no target for BD02
    )
    units = load_workbook(result.files["xlsx"])["TheoDonVi"]
    header = next(r for r in units.iter_rows(values_only=True) if r[2] == "Mã đơn vị")
    method = header.index("Kết quả thực hiện tính")
    by_code = {
        r[2]: r[method] for r in units.iter_rows(values_only=True) if r[2] in ("TX-1", "TX-2")
    }
    assert by_code == {
        "TX-1": "so với chỉ tiêu đăng ký (2/3 tỷ lệ)",
        "TX-2": "so với chỉ tiêu đăng ký (3/3 tỷ lệ)",
    }


def test_phase_report_section_ii_follows_the_plan_contents(small_ws):
    """Issue 21 item 5: the sơ kết's section II has one sub-point per content II.1–7 of
    the plan with each kind's phase figures (the review's, else the years folded), the
    ratio's base named, "không phát sinh" where nothing, then the criteria a)–d); no
    indicator code anywhere in the docx; TongHop gives each indicator's content II.x."""
    from docx import Document
    from openpyxl import load_workbook

    with connect(small_ws.paths.warehouse) as con:
        add_submission(
            con, "st", "TX-1", "so-ket-2027",
            {"TS01": 1000, "TX01": 400, "BD02": 900, "TX02": 390, "TX04": 900, "TT01": 9},
        )  # fmt: skip
    result = run_phase(small_ws, 1, today=date(2027, 11, 20))
    doc = Document(result.files["docx"])
    lines = [p.text for p in doc.paragraphs]
    text = "\n".join(lines + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    contents = [n for n, line in enumerate(lines) if line[:4] in {f"1.{k}." for k in range(1, 8)}]
    assert [lines[n][:4] for n in contents] == [f"1.{k}." for k in range(1, 8)]
    assert (
        lines[contents[0] - 1] == "1. Kết quả thực hiện các nội dung thi đua (mục II của Kế hoạch)"
    )
    criteria = lines.index("2. Kết quả theo tiêu chí thi đua (mục III.1 của Kế hoạch)")
    assert contents[-1] < criteria < lines.index("a) Đối với các ban, ngành, cơ quan, đơn vị")
    section = "\n".join(lines[contents[0] : criteria])
    # offices: TT01 of the years folded (5 + 3 + 2 + 7); villages: TX-1's review
    assert "- Cơ quan, đơn vị: số hoạt động" in section and ": 17 " in section
    assert "tỷ lệ hộ gia đình có internet băng rộng cố định đạt 97,5% (trên" in section.lower()
    nothing = plan.NOTHING_VI.format(unit_noun="đơn vị")  # the commune tier's words
    assert section.count(nothing) >= 1  # II.7, international cooperation
    assert lines[contents[-1] + 1] == nothing
    codes = {i.code for i in small_ws.config.indicators}
    assert codes.isdisjoint(re.findall(r"\b[A-Z]{2}\d{2}\b", text))
    sheet = load_workbook(result.files["xlsx"])["TongHop"]
    col, offices = phase_rows(sheet, "cơ quan, đơn vị")
    content = col["Nội dung (mục II Kế hoạch)"]
    assert (offices["TT01"][content], offices["HC04"][content], offices["TS01"][content]) == (
        "II.1",
        "II.3",
        "—",
    )
