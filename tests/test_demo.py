"""`make demo` end to end: the 2025 story runs and leaves the expected state behind."""

import os
import subprocess
import sys
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import duckdb
import pytest
from test_texts import check_email

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_demo_tells_the_2025_story(tmp_path):
    home = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIDUA_")}
    env["THIDUA_HOME"] = str(home)
    home.mkdir()
    (home / ".thidua-demo").touch()         # as a previous run leaves it: wiped first
    (home / "stale.txt").write_text("from an earlier run")
    out = subprocess.run([sys.executable, "-m", "apps.demo"], check=False, cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert not (home / "stale.txt").exists()
    text = out.stdout
    # the plan cycle opens with the plan (21/08/2025), not 30 days before its due date
    assert "04/08/2025 thidua remind: nothing due, nothing sent" in text
    assert "21/08/2025 thidua remind: 39 × mo (ke-hoach-2025)" in text
    assert "17/12/2025 thidua remind: 7 × t3 (nam-2025)" in text
    assert "29/12/2025 thidua remind (rerun of the same day): nothing due, nothing sent" in text
    assert ("nam-2025: 39 expected, 38 submitted (97.44%), 34 on time (87.18%), 4 late, "
            "1 missing") in text
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT unit_code, version, outcome FROM submissions "
                           "WHERE unit_code = 'CQ-YT' AND cycle_id = 'nam-2025' "
                           "ORDER BY version").fetchall() == [
            ("CQ-YT", 1, "rejected"), ("CQ-YT", 2, "accepted")]
        assert con.execute("SELECT count(*) FROM reminders WHERE unit_code = 'DN-06' "
                           "AND stage = 'don-doc'").fetchall() == [(2,)]
    assert (home / "reports" / "nam-2025" / "v1" / "bao-cao-nam-2025.docx").is_file()
    check_annual_report(home / "reports" / "nam-2025" / "v1" / "bao-cao-nam-2025.docx")
    # 219 before issue 13, + the acknowledgment of the broken attachment from TX-05
    emails = sorted((home / "outbox").glob("*.eml"))
    assert len(emails) == 220
    # every email a unit reads: movement named, no "trước hạn" a past date, no English
    # word or Python float, dates dd/mm/yyyy, Date header on the simulated clock
    dates = set()
    for path in emails:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert check_email(msg) == [], (msg["Subject"], check_email(msg))
        dates.add(msg["Date"].datetime.date())
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
    heads = ["I. CÔNG TÁC CHỈ ĐẠO, TỔ CHỨC TRIỂN KHAI", "II. KẾT QUẢ THỰC HIỆN",
             "III. MÔ HÌNH, CÁCH LÀM HAY", "IV. CÔNG TÁC KHEN THƯỞNG",
             "V. KHÓ KHĂN, VƯỚNG MẮC VÀ NGUYÊN NHÂN",
             "VI. PHƯƠNG HƯỚNG, NHIỆM VỤ VÀ ĐỀ XUẤT, KIẾN NGHỊ"]
    at = [paras.index(h) for h in heads]
    assert at == sorted(at)
    section = {h: "\n".join(paras[a + 1:b]) for h, a, b in zip(heads, at, [*at[1:], None],
                                                                strict=True)}
    assert "Số liệu tính từ ngày 21/08/2025 đến ngày 14/12/2025" in text
    assert "(21/08/2025 – 14/12/2025)" in text                       # chart captions
    assert ("Đã có 38/39 cơ quan, đơn vị, thôn, xóm và doanh nghiệp xây dựng, ban hành kế "
            "hoạch") in section[heads[0]]
    # the units' own words (synthetic.NARRATIVES), units with the same words on one line
    assert "Trung tâm Phục vụ hành chính công xã" in section[heads[1]]
    assert "Nhóm Zalo của thôn thông tin, hướng dẫn người dân hằng tuần" in section[heads[2]]
    assert "Thiết bị tin học đã cũ, đường truyền Internet chưa ổn định" in section[heads[4]]
    assert "Lắp đặt wifi miễn phí tại nhà văn hoá thôn" in section[heads[5]]
    awards = section[heads[3]]
    assert awards.index("1. Khen thưởng theo thẩm quyền") < awards.index(
        "Chủ tịch UBND xã xem xét tặng Giấy khen của Chủ tịch UBND xã cho") < awards.index(
        "2. Đề nghị cấp trên khen thưởng") < awards.index(
        "Đề nghị cấp có thẩm quyền xem xét tặng Bằng khen của Chủ tịch UBND tỉnh cho")
    hc01 = [[c.text for c in r.cells] for t in doc.tables for r in t.rows
            if r.cells[0].text == "HC01"]
    assert hc01 == [["HC01", "Tổng số hồ sơ thủ tục hành chính tiếp nhận", "hồ sơ", "1/1",
                     hc01[0][4]]]
    assert "nam-2025" not in text and "mã tổng hợp" not in text


def test_demo_refuses_to_wipe_a_home_it_did_not_make(tmp_path):
    home = tmp_path / "real"
    home.mkdir()
    (home / "warehouse.duckdb").write_bytes(b"precious")
    env = {k: v for k, v in os.environ.items() if not k.startswith("THIDUA_")}
    out = subprocess.run([sys.executable, "-m", "apps.demo"], check=False, cwd=REPO,
                         env=env | {"THIDUA_HOME": str(home)}, capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.startswith(f"Error: {home} holds data the demo did not make")
    assert (home / "warehouse.duckdb").read_bytes() == b"precious"
