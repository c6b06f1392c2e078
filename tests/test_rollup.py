"""Annual and phase rollups on a hand-built dataset: every figure computed by hand here
and read back from the produced files (xlsx via openpyxl, docx, PNG, Parquet, DuckDB)."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.init import init_workspace
from pipeline.rollup import run_annual, run_phase
from thidua.settings import REPO_CONFIG
from thidua.workspace import Workspace
from warehouse.db import connect

UNITS = """code,name,kind,block,email,head_title,head_email
CQ-A,Phòng A,co_quan,chinh_quyen,a@x.example,Trưởng phòng,ha@x.example
CQ-B,Phòng B,co_quan,chinh_quyen,b@x.example,Trưởng phòng,hb@x.example
CQ-C,Phòng C,co_quan,chinh_quyen,c@x.example,Trưởng phòng,hc@x.example
TX-1,Thôn Một,thon_xom,thon_xom,t1@x.example,Trưởng thôn,h1@x.example
TX-2,Thôn Hai,thon_xom,thon_xom,t2@x.example,Trưởng thôn,h2@x.example
MT-1,Hội Nông dân,mat_tran_doan_the,mat_tran_doan_the,m1@x.example,Chủ tịch,hm@x.example
"""
TZ = timezone(timedelta(hours=7))
ON_TIME, LATE = datetime(2025, 12, 19, 9, tzinfo=TZ), datetime(2025, 12, 28, 9, tzinfo=TZ)

# (submission_id, unit, cycle, version, received_at, outcome, late, n_warnings, values)
SUBMISSIONS = [
    ("a1", "CQ-A", "nam-2025", 1, ON_TIME, "accepted", False, 0,
     {"TS01": 100, "BD02": 50, "HC01": 200, "HC02": 150, "HC04": 80, "TT01": 5}),
    ("b1", "CQ-B", "nam-2025", 1, ON_TIME, "accepted", False, 0,
     {"TS01": 999, "BD02": 1, "HC01": 999, "HC02": 1, "HC04": 1, "TT01": 99}),
    ("b2", "CQ-B", "nam-2025", 2, LATE, "accepted_with_warnings", True, 1,
     {"TS01": 300, "BD02": 60, "HC01": 100, "HC02": 100, "HC04": 40, "TT01": 3}),
    ("c1", "CQ-C", "nam-2025", 1, ON_TIME, "rejected", False, 0, {}),
    ("c2", "CQ-C", "nam-2025", 2, LATE, "accepted_with_warnings", True, 1,
     {"TS01": 50, "BD02": 50, "HC01": 0, "HC02": 0, "HC04": 100, "TT01": 2}),
    ("t1", "TX-1", "nam-2025", 1, ON_TIME, "accepted", False, 0,
     {"TS01": 1000, "BD02": 100, "TX01": 400, "TX02": 200, "TX04": 500, "TT01": 4}),
    ("t2", "TX-2", "nam-2025", 1, ON_TIME, "accepted_with_warnings", False, 2,
     {"TS01": 500, "BD02": 100, "TX01": 100, "TX02": 100, "TT01": 6}),
    ("t3", "TX-2", "nam-2025", 2, LATE, "rejected", True, 0, {}),   # t2 still counts
    # nam-2026: two units; nam-2027: none.  Plan targets for 2027.
    ("a26", "CQ-A", "nam-2026", 1, ON_TIME + timedelta(days=365), "accepted", False, 0,
     {"TS01": 120, "TT01": 7, "HC04": 60}),
    ("t26", "TX-1", "nam-2026", 1, ON_TIME + timedelta(days=365), "accepted", False, 0,
     {"TS01": 1100, "TT01": 3}),
    ("kha", "CQ-A", "ke-hoach-2025", 1, datetime(2025, 9, 1, tzinfo=TZ), "accepted", False, 0,
     {"TS01": 150, "TT01": 20}),
    ("kht", "TX-1", "ke-hoach-2025", 1, datetime(2025, 9, 1, tzinfo=TZ), "accepted", False, 0,
     {"TS01": 1200, "TT01": 20}),
]
PROPOSALS = [("a1", 1, "Tập thể", "Phòng A", "giay-khen-xa"),
             ("a1", 2, "Cá nhân", "Nguyễn Văn Bình", "giay-khen-xa"),
             ("b1", 1, "Cá nhân", "Bản cũ, không tính", "bang-khen-tinh"),
             ("t1", 1, "Cá nhân", "Trần Thị Cúc", "bang-khen-tinh")]
INITIATIVES = [("a1", 1, "Số hoá hồ sơ"), ("t2", 1, "Zalo thôn"), ("t2", 2, "QR thanh toán")]


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
            con.execute("INSERT INTO submissions (submission_id, unit_code, cycle_id, version, "
                        "received_at, outcome, late, n_warnings, file_format, batch_id) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'xlsx', 'test')",
                        [sid, unit, cycle, version, at, outcome, late, warns])
            measure = "target_2027" if cycle.startswith("ke-hoach") else "value"
            for i, (code, value) in enumerate(values.items()):
                con.execute("INSERT INTO submission_values (submission_id, indicator_code, "
                            "measure, value, cell) VALUES (?, ?, ?, ?, ?)",
                            [sid, code, measure, value, f"ChiTieu!D{7 + i}"])
        con.execute("UPDATE submission_values v SET sk = s.sk FROM submissions s "  # as loaded
                    "WHERE s.submission_id = v.submission_id")
        for sid, row, subject, name, form in PROPOSALS:
            con.execute("INSERT INTO proposals VALUES (?, ?, ?, ?, 'Cán bộ', ?, 'Tốt', ?)",
                        [sid, row, subject, name, form, f"DeNghiKhenThuong!E{4 + row}"])
        for sid, row, title in INITIATIVES:
            con.execute("INSERT INTO initiatives VALUES (?, ?, ?, 'Tác giả', 'CĐS', "
                        "'01/2025', 'Tốt', 'Cơ sở', ?)", [sid, row, title, f"SangKien!B{4 + row}"])
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
    assert wb.sheetnames == ["TongHop", "TheoKhoi", "TheoDonVi", "SangKien", "KhenThuong",
                             "ChuaNop"]

    # Completeness: 6 expected; CQ-C only late (v1 rejected), MT-1 missing.
    top = rows_by_key(wb["TongHop"])
    assert top["Toàn xã (Phong Doanh)"][1:8] == (6, 5, 4, 1, 1, round(500 / 6, 2),
                                                 round(400 / 6, 2))
    kinds = small_ws.config.settings.kinds
    assert top[kinds["co_quan"]][1:8] == (3, 3, 2, 1, 0, 100, round(200 / 3, 2))
    assert top[kinds["mat_tran_doan_the"]][1:8] == (1, 0, 0, 0, 1, 0, 0)

    # Indicator totals from the counted versions (b2, not b1; c2; rejected c1 ignored).
    ind = {r[0]: r for r in wb["TongHop"].iter_rows(values_only=True) if r[0] in
           ("TS01", "BD02", "HC01", "HC02", "HC04", "TX04", "DN02")}
    assert ind["TS01"][3:6] == (6, 5, 100 + 300 + 50 + 1000 + 500)
    assert ind["HC01"][3:6] == (3, 3, 300)
    assert ind["HC04"][5] == round((80 * 100 + 40 * 300 + 100 * 50) / 450, 2)   # TS01-weighted
    assert ind["TX04"][3:6] == (2, 1, 500)
    assert ind["DN02"][3:6] == (0, 0, None)

    # Ratios: TX04/TS01 only over the unit reporting TX04 (TX-1).
    ratios = {r[0]: r for r in wb["TongHop"].iter_rows(values_only=True)
              if r[0] in ("ho_so_truc_tuyen", "ky_nang_so", "bang_rong", "vneid_muc_2")}
    assert ratios["ho_so_truc_tuyen"][3:7] == (2, 250, 300, round(100 * 250 / 300, 2))
    assert ratios["ky_nang_so"][6] == round(100 * 360 / 1950, 2)
    assert ratios["bang_rong"][6] == 60
    assert ratios["vneid_muc_2"][3:7] == (1, 500, 1000, 50)

    # Scores: cume_dist percentile ranks within the block, by hand.
    units = rows_by_key(wb["TheoDonVi"], col=3)
    perf = {"CQ-A": (0.5 + 2 / 3) / 2, "CQ-B": (1 + 1 / 3) / 2, "CQ-C": 1.0,
            "TX-1": (0.5 + 0.5 + 1) / 3, "TX-2": 1.0, "MT-1": 0.0}
    time = {"CQ-A": 20, "CQ-B": 20, "CQ-C": 10, "TX-1": 20, "TX-2": 20, "MT-1": 0}
    quality = {"CQ-A": 10, "CQ-B": 5, "CQ-C": 5, "TX-1": 10, "TX-2": 5, "MT-1": 0}
    rank = {"CQ-C": 1, "CQ-B": 2, "CQ-A": 3, "TX-2": 1, "TX-1": 2, "MT-1": 1}
    for code, rank_pr in perf.items():
        row = units[code]
        p = round(70 * rank_pr, 2)
        assert row[9:13] == (time[code], quality[code], p, round(time[code] + quality[code] + p,
                                                                 2)), code
        assert row[1] == rank[code], code
    assert units["CQ-B"][13] == 2 and units["CQ-B"][16] == "b2"      # counted version
    assert units["CQ-B"][5:7] == (100, 20)                             # its ratios
    assert units["CQ-C"][5] is None                                    # HC01 = 0: no ratio

    # Missing and late units; proposals tallied by form (superseded b1 not counted).
    chua = {r[0]: r for r in wb["ChuaNop"].iter_rows(values_only=True)}
    order = list(chua)
    assert order.index("MT-1") < order.index("Nộp muộn") < order.index("CQ-C")
    assert chua["CQ-C"][4:7] == ("Nộp muộn", 2, datetime(2025, 12, 28, 9, 0))  # local time
    tally = rows_by_key(wb["KhenThuong"])
    assert tally["giay-khen-xa"][2:5] == (1, 1, 2)
    assert tally["bang-khen-tinh"][2:5] == (0, 1, 1)
    assert [r[3] for r in wb["SangKien"].iter_rows(values_only=True) if r[2] in (1, 2)] == \
        ["Số hoá hồ sơ", "Zalo thôn", "QR thanh toán"]


def test_annual_rollup_files_provenance_and_versions(small_ws):
    import pandas as pd
    from docx import Document

    first = run_annual(small_ws, 2025, today=date(2026, 1, 5))
    second = run_annual(small_ws, 2025, today=date(2026, 1, 5))
    assert (first.rollup_id, second.rollup_id) == ("nam-2025-v1", "nam-2025-v2")
    assert first.output_dir != second.output_dir and first.files["xlsx"].exists()
    with connect(small_ws.paths.warehouse, read_only=True) as con:
        sources = con.execute("SELECT rollup_id, list(submission_id ORDER BY submission_id) "
                              "FROM rollup_sources GROUP BY 1 ORDER BY 1").fetchall()
        versions = con.execute("SELECT version, output_dir FROM rollups ORDER BY 1").fetchall()
    assert sources == [(r, ["a1", "b2", "c2", "t1", "t2"]) for r in ("nam-2025-v1",
                                                                     "nam-2025-v2")]
    assert versions == [(1, str(first.output_dir)), (2, str(second.output_dir))]

    text = "\n".join(p.text for p in Document(first.files["docx"]).paragraphs)
    cells = "\n".join(c.text for t in Document(first.files["docx"]).tables
                      for row in t.rows for c in row.cells)
    for part in ("ỦY BAN NHÂN DÂN", "XÃ PHONG DOANH", "Số:      /BC-UBND",
                 "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 "Phong Doanh, ngày 05 tháng 01 năm 2026", "Nơi nhận:", "- Lưu: VT, VHXH.",
                 "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn An"):
        assert part in cells, part
    for part in ("BÁO CÁO", "Kết quả thực hiện Phong trào thi đua", "năm 2025",
                 "Kính gửi: Sở Nội vụ tỉnh Ninh Bình", "Căn cứ Luật Thi đua, khen thưởng",
                 "đã nộp: 5 (tỷ lệ 83,33%)", "nộp muộn: 1; chưa nộp: 1", "nam-2025-v1"):
        assert part in text, part

    for png in first.output_dir.joinpath("charts").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list(first.output_dir.joinpath("charts").glob("*.png"))) == 2
    parquet = pd.read_parquet(first.output_dir / "data" / "units.parquet")
    assert parquet.set_index("code").loc["CQ-C", "status"] == "late"
    csv = pd.read_csv(first.output_dir / "data" / "sources.csv", encoding="utf-8-sig")
    assert sorted(csv["submission_id"]) == ["a1", "b2", "c2", "t1", "t2"]


def test_phase_rollup_cumulative_and_targets(small_ws):
    from openpyxl import load_workbook

    result = run_phase(small_ws, 1, today=date(2027, 11, 20))
    assert result.rollup_id == "so-ket-2027-v1"
    sheet = load_workbook(result.files["xlsx"])["TongHop"]
    header = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "Mã" and
                  "Năm 2025" in r)
    col = {h: i for i, h in enumerate(header)}
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True) if r[0] in ("TT01", "TS01",
                                                                          "HC04")}
    tt, ts, hc = rows["TT01"], rows["TS01"], rows["HC04"]
    assert (tt[col["Năm 2025"]], tt[col["Năm 2026"]], tt[col["Năm 2027"]]) == (20, 10, None)
    assert tt[col["Lũy kế giai đoạn"]] == 30                       # sum
    assert ts[col["Lũy kế giai đoạn"]] == 1220                     # last year with data
    hc04_2025 = round((80 * 100 + 40 * 300 + 100 * 50) / 450, 2)
    assert hc[col["Lũy kế giai đoạn"]] == round((hc04_2025 + 60) / 2, 2)   # mean
    assert (tt[col["Chỉ tiêu đăng ký"]], tt[col["Đạt so với chỉ tiêu (%)"]]) == (40, 75)
    assert ts[col["Đạt so với chỉ tiêu (%)"]] == round(100 * 1220 / 1350, 2)
    assert len(list(result.output_dir.joinpath("charts").glob("*.png"))) == 3
    with connect(small_ws.paths.warehouse, read_only=True) as con:
        n = con.execute("SELECT count(*) FROM rollup_sources WHERE rollup_id = "
                        "'so-ket-2027-v1'").fetchall()[0][0]
    assert n == 5 + 2 + 2       # nam-2025, nam-2026 and the plan's counted versions


def test_annual_rollup_without_submissions(workspace):
    result = run_annual(workspace, 2025, today=date(2026, 1, 5))
    h = result.headline
    assert (h["expected"], h["submitted"], h["missing"], h["accepted_in_cycle"]) == (39, 0, 39, 0)
    assert result.files["xlsx"].exists() and result.files["docx"].exists()
    phase = run_phase(workspace, 2, today=date(2030, 10, 20))
    assert (phase.rollup_id, phase.headline["sources"]) == ("tong-ket-2030-v1", 0)


def test_values_written_without_sk_stop_the_rollup(small_ws):
    from thidua.errors import UnkeyedValues

    with connect(small_ws.paths.warehouse) as con:
        sid = con.execute("SELECT min(submission_id) FROM submissions").fetchall()[0][0]
        con.execute("INSERT INTO submission_values (submission_id, indicator_code, measure, "
                    "value) VALUES (?, 'TS01', 'value', 5)", [sid])
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
    assert (data["rollup_id"], data["headline"]["on_time_rate"]) == ("nam-2025-v1",
                                                                      round(400 / 6, 2))
    assert data["headline"]["ratios"]["vneid_muc_2"] == 50
    bad = runner.invoke(app, ["rollup", "phase", "3"])
    assert bad.exit_code == 1
    assert bad.stderr == "Error: no phase 3 (known phases: 1, 2)\n"


@pytest.mark.slow
def test_annual_rollup_flow_runs_in_prefect_and_mails_the_report(
        small_ws, prefect_harness, smtp_server, monkeypatch):
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
    attached = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert attached == {Path(out["files"]["docx"]).name: Path(out["files"]["docx"]).read_bytes(),
                        Path(out["files"]["xlsx"]).name: Path(out["files"]["xlsx"]).read_bytes()}


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
    assert runs[2025] == date(2025, 12, 23)      # due Sat 20/12 → Mon 22/12 → Tue 23/12
