"""The checker of what a clerk should never read in an email (`helpers.check_email`)
catches what the tester found in issue 13."""

from __future__ import annotations

from datetime import date

from helpers import email_problems


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
