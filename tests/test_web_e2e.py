"""Issue 15, end to end in a real browser: Debian's headless Chromium driven by Playwright
against `thidua web` (uvicorn in a subprocess on a free loopback port), a real DuckDB
home and a real SMTP server (aiosmtpd).  Never downloads a browser: without
/usr/bin/chromium (`apt-get install chromium`, done by .ci/run) the test is skipped.

A unit opens its link, uploads a workbook with an error and reads the problem on the
page, uploads a corrected one; the officer logs in and returns it with a comment (the
unit's email, with the comment and its link, arrives on the SMTP server); the unit
opens that link and uploads again; the officer approves that version; the rollup, set
to count approved versions only, counts it.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest
from helpers import E2E_PASSWORD as PASSWORD

from apps import synthetic

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def upload(page, data: bytes) -> str:
    """Choose the workbook in the page's file input, send it, return the result box."""
    page.set_input_files(
        'input[name="file"]', files=[{"name": "bao-cao.xlsx", "mimeType": XLSX, "buffer": data}]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Nộp báo cáo").click()
    return page.locator("#result").inner_text()


def mail_with(smtp, needle: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in smtp.received:
            if needle in m.message.get_body(("plain",)).get_content():
                return m
        time.sleep(0.2)
    raise AssertionError(
        f"no mail containing {needle!r}: {[m.message['Subject'] for m in smtp.received]}"
    )


def test_unit_uploads_officer_returns_then_approves_rollup_counts_it(web_server, browser, smtp_env):
    from openpyxl import load_workbook

    from pipeline.links import make_link
    from pipeline.rollup import rollup

    ws, base = web_server
    cfg = ws.config
    today = cfg.settings.calendar.today()
    cycle = max(
        (c for c in cfg.cycles if cfg.calendar.stage_dates(c.due)["mo"] <= today),
        key=lambda c: c.due,
    )
    if cycle.kind != "nam":
        pytest.skip(f"the open cycle {cycle.id} is not annual")
    unit = cfg.expected_units(cycle)[0]
    ind = next(i for i in cfg.indicators_for(unit.kind) if i.type == "percent")
    link = make_link(ws, unit.code, cycle.id)
    assert link.startswith(f"{base}/u/")

    # -- the unit: a workbook with an error, the problem on the page, then a corrected one
    unit_ctx = browser.new_context(locale="vi-VN")
    unit_ctx.set_default_timeout(120_000)  # an upload's answer on a busy machine
    page = unit_ctx.new_page()
    page.goto(link)
    assert page.locator("h1").inner_text() == unit.name
    assert cycle.due.strftime("%d/%m/%Y") in page.content()
    assert page.locator("#status").inner_text() == "chưa nộp"
    result = upload(page, synthetic.workbook(cfg, unit, cycle, overrides={ind.code: 150}))
    assert "Phiên bản 1: Chưa đạt" in result
    assert "Vui lòng sửa các lỗi dưới đây rồi nộp lại." in result
    row = page.locator("#result tr", has_text=ind.name_vi)
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "Lỗi" and cells[1] == f"{ind.code} – {ind.name_vi}"
    assert cells[3] == "Chỉ tiêu" and re.fullmatch(r"[A-Z]+\d+", cells[4])
    assert cells[5] == "150" and cells[6]  # the value read, what to do
    assert page.locator("#status").inner_text() == "có lỗi"
    result = upload(page, synthetic.workbook(cfg, unit, cycle))
    assert "Phiên bản 2: Đã tiếp nhận." in result and "chờ Phòng VHXH duyệt" in result
    assert page.locator("#status").inner_text() == "chờ duyệt"

    # -- the officer: login, the matrix, return version 2 with a comment
    officer_ctx = browser.new_context(locale="vi-VN")
    officer_ctx.set_default_timeout(120_000)
    off = officer_ctx.new_page()
    off.goto(f"{base}/officer?cycle={cycle.id}")
    assert off.url == f"{base}/officer/login"  # refused without a login
    off.get_by_label("Mật khẩu").fill(PASSWORD)
    with off.expect_navigation():
        off.get_by_role("button", name="Đăng nhập").click()
    off.goto(f"{base}/officer?cycle={cycle.id}")
    assert off.locator("#count-cho-duyet").inner_text() == "1"
    assert off.locator("#count-chua-nop").inner_text() == str(len(cfg.expected_units(cycle)) - 1)
    off.get_by_role("link", name=re.compile(r"^Chờ duyệt")).click()
    off.get_by_role("link", name=unit.code, exact=True).click()
    assert off.locator("h1").inner_text() == f"{unit.name} ({unit.code})"
    comment = "Đề nghị bổ sung số liệu ở sheet ChiTieu và ghi rõ họ tên người lập biểu."
    off.locator('textarea[name="comment"]').fill(comment)
    with off.expect_navigation():
        off.get_by_role("button", name="Trả lại để sửa").click()
    assert off.locator("#status").inner_text() == "trả lại"

    # -- the unit's email on the SMTP server: the comment and its link
    mail = mail_with(smtp_env, comment)
    assert mail.rcpt_tos == [unit.email]
    assert "được trả lại để hoàn thiện" in mail.message["Subject"]
    body = mail.message.get_body(("plain",)).get_content()
    mailed = re.search(rf"({re.escape(base)}/u/\S+?)\.?\s", body).group(1)

    # -- the unit follows the mailed link and sends version 3
    page.goto(mailed)
    assert page.locator("#status").inner_text() == "trả lại"
    assert comment in page.content()
    third = synthetic.workbook(cfg, unit, cycle, initiatives=2)
    result = upload(page, third)
    assert "Phiên bản 3: Đã tiếp nhận." in result
    assert page.locator("#status").inner_text() == "chờ duyệt"

    # -- the officer approves version 3
    off.reload()
    assert off.get_by_role("heading", name="Duyệt phiên bản 3").count() == 1
    with off.expect_navigation():
        off.get_by_role("button", name="Duyệt", exact=True).click()
    assert off.locator("#status").inner_text() == "đã duyệt"
    log = off.locator("table").last.inner_text()
    assert comment in log and "đã duyệt" in log

    # -- the rollup (approved versions only) counts version 3, and nothing else
    result, _ = rollup(ws, "annual", cycle.year)
    h = result.headline
    assert (h["counts"], h["sources"], h["submitted"]) == ("approved", 1, 1)
    # invited kinds (companies) are participation, not the commune's rate (issue 21 item 6)
    invited = cfg.settings.rollup.invited_kinds
    counted = [u for u in cfg.expected_units(cycle) if u.kind not in invited]
    assert h["missing"] == len(counted) - 1
    import pandas as pd

    sources = pd.read_parquet(result.output_dir / "data" / "sources.parquet")
    assert sources[["unit_code", "version", "submission_id"]].values.tolist() == [
        [unit.code, 3, hashlib.sha256(third).hexdigest()]
    ]
    sheet = load_workbook(result.files["xlsx"], read_only=True)["TheoDonVi"]
    rows = [r for r in sheet.iter_rows(values_only=True) if unit.code in r]
    assert len(rows) == 1 and 3 in rows[0] and hashlib.sha256(third).hexdigest() in rows[0]
    from docx import Document

    text = "\n".join(p.text for p in Document(result.files["docx"]).paragraphs)
    assert "chỉ tính các bản báo cáo đã được Phòng Văn hoá – Xã hội duyệt" in text
