"""`make demo` end to end: the 2025 story runs and leaves the expected state behind."""

import os
import re
import subprocess
import sys
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import duckdb
import pytest
from helpers import check_email

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_demo_tells_the_2025_story(tmp_path):
    home = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIDUA_")}
    env["THIDUA_HOME"] = str(home)
    home.mkdir()
    (home / ".thidua-demo").touch()  # as a previous run leaves it: wiped first
    (home / "stale.txt").write_text("from an earlier run")
    out = subprocess.run(
        [sys.executable, "-m", "apps.demo"],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert not (home / "stale.txt").exists()
    text = out.stdout
    # the plan cycle opens with the plan (21/08/2025), not 30 days before its due date;
    # the narration is in Vietnamese
    nothing = "không có đợt nhắc nào đến hạn, không gửi thư nào"
    assert f"04/08/2025 thidua remind: {nothing}" in text
    assert "21/08/2025 thidua remind: 39 thư “Mở kỳ báo cáo” (ke-hoach-2025)" in text
    assert "25/08/2025 đơn vị gửi báo cáo kỳ ke-hoach-2025: 37 đơn vị, 35 kèm văn bản" in text
    assert "17/12/2025 thidua remind: 7 thư “Nhắc trước hạn 3 ngày làm việc” (nam-2025)" in text
    assert f"29/12/2025 thidua remind (chạy lại trong ngày): {nothing}" in text
    assert (
        # issue 21: the 6 invited companies (one of them silent) are apart from the rates
        "nam-2025: 33 đơn vị phải nộp, 33 đã nộp (100%), 29 đúng hạn (87,88%), 4 muộn, 0 chưa nộp"
    ) in text
    english = (
        "nothing due",
        "units send",
        "expected",
        "submitted",
        "on time",
        "Summary",
        "acknowledged",
        "Where things stand",
        "emails written",
        "rollup ",
    )
    assert [w for w in english if w in text] == []
    assert "Văn bản kế hoạch" in text and "chưa nhận" in text
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute(
            "SELECT unit_code, version, outcome FROM submissions "
            "WHERE unit_code = 'CQ-YT' AND cycle_id = 'nam-2025' "
            "ORDER BY version"
        ).fetchall() == [("CQ-YT", 1, "rejected"), ("CQ-YT", 2, "accepted_with_warnings")]
        # issue 21: its corrected version copies the texts the other offices sent on
        # 15/12 (synthetic.NARRATIVES, one per kind): warned of, naming the field
        assert {
            r[0]
            for r in con.execute(
                "SELECT r.rule_id FROM validation_results r JOIN submissions s "
                "USING (submission_id) WHERE s.unit_code = 'CQ-YT' AND s.version = 2 "
                "AND s.cycle_id = 'nam-2025'"
            ).fetchall()
        } == {"narrative_copied"}
        assert con.execute(
            "SELECT count(*) FROM reminders WHERE unit_code = 'DN-06' AND stage = 'don-doc'"
        ).fetchall() == [(2,)]
        # plans: every unit's but TX-02's and MT-NCT's came beside the workbook
        assert con.execute(
            "SELECT count(DISTINCT s.unit_code), count(*) FILTER ("
            "WHERE s.unit_code IN ('TX-02', 'MT-NCT')) FROM attachments a "
            "JOIN submissions s USING (submission_id) WHERE a.role = "
            "'document' AND s.cycle_id = 'ke-hoach-2025'"
        ).fetchall() == [(36, 0)]
    assert (home / "reports" / "nam-2025" / "v1" / "bao-cao-nam-2025.docx").is_file()
    check_annual_report(home / "reports" / "nam-2025" / "v1" / "bao-cao-nam-2025.docx")
    assert "Khen thưởng: Hội đồng đồng ý" in text and "Quyết định số 15/QĐ-UBND" in text
    # 219 before issue 13, + the acknowledgment of the broken attachment from TX-05
    emails = sorted((home / "outbox").glob("*.eml"))
    assert len(emails) == 220
    # every email a unit reads: movement named, no "trước hạn" a past date, no English
    # word or Python float, dates dd/mm/yyyy, Date header on the simulated clock
    dates, plan_acks = set(), {}
    for path in emails:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert check_email(msg) == [], (msg["Subject"], check_email(msg))
        dates.add(msg["Date"].datetime.date())
        if "ke-hoach-2025_" in str(msg["Subject"]) and msg["Auto-Submitted"] == "auto-replied":
            plan_acks[str(msg["To"])] = msg.get_body(("plain",)).get_content()
    assert "Văn bản kế hoạch của đơn vị: chưa nhận được" in plan_acks["thon02@phongdoanh.example"]
    # issue 21: targets without the plan document are taken "có lưu ý"
    assert "KẾT QUẢ KIỂM TRA: ĐÃ TIẾP NHẬN, CÓ LƯU Ý" in plan_acks["thon02@phongdoanh.example"]
    assert (
        "Văn bản kế hoạch của đơn vị: đã nhận (“ke-hoach-2025_TX-01.pdf”)"
        in plan_acks["thon01@phongdoanh.example"]
    )
    assert min(dates) == date(2025, 8, 21) and max(dates) == date(2025, 12, 29)
    assert "Tệp không đọc được: 1" in text and "thon05@phongdoanh.example" in text


def check_annual_report(path: Path) -> None:
    """Issue 12: the demo's annual report read back with python-docx: the six sections of
    plan VI with the demo units' own words, the data period, how many units issued plans,
    awards split by authority (both sides), HC01 over the public-service centre alone, and
    no internal id in the body."""
    from docx import Document

    doc = Document(str(path))
    paras = [p.text for p in doc.paragraphs]
    text = "\n".join(paras)
    heads = [
        "I. CÔNG TÁC CHỈ ĐẠO, TỔ CHỨC TRIỂN KHAI",
        "II. KẾT QUẢ THỰC HIỆN",
        "III. MÔ HÌNH, CÁCH LÀM HAY",
        "IV. CÔNG TÁC KHEN THƯỞNG",
        "V. KHÓ KHĂN, VƯỚNG MẮC VÀ NGUYÊN NHÂN",
        "VI. PHƯƠNG HƯỚNG, NHIỆM VỤ VÀ ĐỀ XUẤT, KIẾN NGHỊ",
    ]
    at = [paras.index(h) for h in heads]
    assert at == sorted(at)
    section = {
        h: "\n".join(paras[a + 1 : b]) for h, a, b in zip(heads, at, [*at[1:], None], strict=True)
    }
    assert "Số liệu tính từ ngày 21/08/2025 đến ngày 14/12/2025" in text
    assert "(21/08/2025 – 14/12/2025)" in text  # chart captions
    # issue 21: the plan count split by the plan document (was "38/39 ban hành kế hoạch",
    # counting two units that sent only their targets)
    assert (
        "36 đơn vị đã ban hành kế hoạch thực hiện Phong trào thi đua (có văn bản)"
        in section[heads[0]]
    )
    assert "2 đơn vị mới đăng ký chỉ tiêu (" in section[heads[0]]
    assert "1 đơn vị chưa đăng ký (" in section[heads[0]]
    # the units' own words (synthetic.NARRATIVES), units with the same words on one line
    assert "Trung tâm Phục vụ hành chính công xã" in section[heads[1]]
    assert "Nhóm Zalo của thôn thông tin, hướng dẫn người dân hằng tuần" in section[heads[2]]
    assert "Thiết bị tin học đã cũ, đường truyền Internet chưa ổn định" in section[heads[4]]
    assert "Lắp đặt wifi miễn phí tại nhà văn hoá thôn" in section[heads[5]]
    awards = section[heads[3]]
    assert (
        awards.index("1. Khen thưởng theo thẩm quyền")
        < awards.index("Chủ tịch UBND xã tặng Giấy khen của Chủ tịch UBND xã cho")
        < awards.index("Quyết định số 15/QĐ-UBND ngày 30/12/2025")
        < awards.index("2. Đề nghị cấp trên khen thưởng")
        < awards.index("Đề nghị tặng Bằng khen của Chủ tịch UBND tỉnh cho")
        < awards.index("Tờ trình số 16/TTr-UBND ngày 30/12/2025")
    )
    # its counts are the proposals the council approved in the warehouse (issue 22)
    home = path.parents[3]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        approved = con.execute(
            "SELECT count(*) FROM proposal_states WHERE state IN ('da-khen-thuong', 'da-trinh')"
        ).fetchall()[0][0]
    totals = [
        int(r.cells[4].text)
        for t in doc.tables
        if t.rows[0].cells[0].text == "Hình thức khen thưởng"
        for r in t.rows[1:]
    ]
    assert sum(totals) == approved > 0
    hc01 = [
        [c.text for c in r.cells[1:]]
        for t in doc.tables
        for r in t.rows
        if r.cells[1].text == "Tổng số hồ sơ thủ tục hành chính tiếp nhận"
    ]
    assert hc01 == [["Tổng số hồ sơ thủ tục hành chính tiếp nhận", "hồ sơ", "1/1", hc01[0][3]]]
    assert "nam-2025" not in text and "mã tổng hợp" not in text
    # issue 21: the invited companies as participation, apart from the commune's rates
    assert "Các doanh nghiệp, hợp tác xã được mời tham gia Phong trào: 5/6 doanh" in text
    check_organised_by_plan(doc, section[heads[1]], section[heads[2]])
    # issue 21 item 8: companies have no ratio: not scored, and the report says so
    assert "Các doanh nghiệp, hợp tác xã chưa có tỷ lệ chỉ tiêu để đánh giá" in awards
    leaders = next(t for t in doc.tables if t.rows[0].cells[1].text == "Đơn vị xếp thứ nhất")
    blocks = [r.cells[0].text for r in leaders.rows[1:]]
    assert "Khối chính quyền" in blocks and "Khối doanh nghiệp" not in blocks


ROOT = Path(__file__).resolve().parents[1]


def check_organised_by_plan(doc, results: str, models: str) -> None:
    """Issue 21 item 5: section II has one sub-point per content II.1–7 of the plan, then
    the criteria groups; no indicator code anywhere, no "Không có" line, every ratio names
    its base, the on-time rate (HC03/HC01) stated, companies as participation, initiatives
    written "tên – tác giả, đơn vị – hiệu quả"."""
    lines = results.splitlines()
    points = [next(i for i, p in enumerate(lines) if p.startswith(f"1.{n}. ")) for n in range(1, 8)]
    assert points == sorted(points)
    assert lines[points[0] - 1].startswith("1. Kết quả thực hiện các nội dung thi đua")
    assert lines[points[1]] == "1.2. Thi đua phát triển hạ tầng số, công nghệ số"
    assert "Trong kỳ, các đơn vị không phát sinh" in lines[points[6] + 1]  # II.7
    assert "2. Kết quả theo tiêu chí thi đua (mục III.1 của Kế hoạch)" in lines
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    every = [p.text for p in doc.paragraphs] + cells
    codes = [
        line.split(",")[0] for line in (ROOT / "config" / "indicators.csv").open(encoding="utf-8")
    ]
    assert not [t for t in every if set(re.findall(r"\b[A-Z]{2}\d{2}\b", t)) & set(codes)]
    assert not [t for t in every if t.strip(" -.").lower().endswith("không có")]
    rates = re.findall(r"đạt [\d.,]+%( \(trên [^)]+\))?", results)
    assert rates and all(rates), rates
    assert "(trên tổng số nhân khẩu từ 15 tuổi trở lên)" in results
    assert "(trên tổng số CBCCVC, người lao động)" in results
    assert "(trên tổng số đoàn viên, hội viên)" in results
    assert "tỷ lệ hồ sơ thủ tục hành chính giải quyết đúng hạn đạt 93,3% (trên tổng" in results
    assert "Doanh nghiệp, hợp tác xã (được mời tham gia; 5/6 đơn vị tham gia báo cáo)" in results
    assert "Tổng số CBCCVC, người lao động" in cells and "Tổng số lao động" in cells
    # the same highlight of twelve offices written once, under content II.3
    office = "Ứng dụng phần mềm quản lý văn bản và hồ sơ công việc trong toàn đơn vị"
    assert results.count(office) == 1
    assert points[2] < next(i for i, p in enumerate(lines) if office in p) < points[3]
    assert " – Rút ngắn thời gian xử lý hồ sơ (công nhận cấp xã)." in models


def test_demo_refuses_to_wipe_a_home_it_did_not_make(tmp_path):
    home = tmp_path / "real"
    home.mkdir()
    (home / "warehouse.duckdb").write_bytes(b"precious")
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIDUA_")}
    out = subprocess.run(
        [sys.executable, "-m", "apps.demo"],
        check=False,
        cwd=REPO,
        env=env | {"THIDUA_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert out.stderr.startswith(f"Error: {home} holds data the demo did not make")
    assert (home / "warehouse.duckdb").read_bytes() == b"precious"
