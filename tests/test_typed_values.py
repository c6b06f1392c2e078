"""Values as Excel stores what a clerk types (a percent, a Vietnamese thousands count as
text) are read as meant and acknowledged in the unit's words.  Real workbook filled
with openpyxl, real DuckDB, real SMTP (aiosmtpd)."""

from __future__ import annotations

import re

from helpers import cell_of, check_email, drop, excel_fill, rows

from apps import synthetic
from pipeline.collect import collect
from thidua.workspace import Workspace


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
