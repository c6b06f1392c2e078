"""Issue 22, the council's meeting in a real browser (Debian's headless Chromium, as
`test_web_e2e`): the officer logs in, opens a meeting, decides two proposals with their
votes, and downloads the biên bản and the Tờ trình."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from helpers import E2E_PASSWORD as PASSWORD
from helpers import PROPOSALS, VN, docx_text, send

pytestmark = pytest.mark.slow


def test_a_council_meeting_on_the_officer_pages(web_server, browser, tmp_path):
    ws, base = web_server
    send(ws, "TX-03", "nam-2025", PROPOSALS, datetime(2025, 12, 10, 9, tzinfo=VN), "a.xlsx")
    ctx = browser.new_context(locale="vi-VN", accept_downloads=True)
    ctx.set_default_timeout(120_000)
    page = ctx.new_page()
    page.goto(f"{base}/officer/khen-thuong/nam-2025")
    assert page.url == f"{base}/officer/login"  # the officer's login guards the council
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{base}/officer/khen-thuong/nam-2025")
    assert "Trần Văn Nam" in page.locator("#proposals").inner_text()
    page.locator("#held_on").fill("22/12/2025")
    with page.expect_navigation():
        page.locator("#open").click()
    assert re.search(r"/hop/\d+$", page.url)
    assert "7/7 thành viên có mặt" in page.locator("#meeting").inner_text()

    def decide(name: str, votes: str, button: str, note: str) -> str:
        row = page.locator("#proposals tr", has_text=name)
        row.locator('input[name="votes"]').fill(votes)
        row.locator('input[name="note"]').fill(note)
        with page.expect_navigation():
            row.get_by_role("button", name=button, exact=True).click()
        return page.locator("#proposals tr", has_text=name).locator(".state").inner_text()

    assert decide("Trần Văn Nam", "6", "Đồng ý", "Xuất sắc") == "Hội đồng đồng ý (6/7)"
    assert decide("Nguyễn Thị Hoa", "2", "Không đồng ý", "Chưa đủ") == (
        "Hội đồng không đồng ý (2/7)"
    )
    texts = {}
    for link in ("bien-ban", "to-trinh"):
        with page.expect_download() as got:
            page.locator(f"#{link}").click()
        path = tmp_path / f"{link}.docx"
        got.value.save_as(path)
        texts[link] = docx_text(path)
    assert "Trần Văn Nam" in texts["to-trinh"] and "Nguyễn Thị Hoa" not in texts["to-trinh"]
    assert "Chưa đủ" in texts["bien-ban"] and "6/7" in texts["bien-ban"]
