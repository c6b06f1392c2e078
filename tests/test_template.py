"""The workbook a unit fills (`thidua.template`): the Hướng dẫn sheet, hidden keys,
percent formats and drop-down lists, read back with openpyxl."""

from __future__ import annotations

import io

import openpyxl
from helpers import MOVEMENTS, cell_of

from thidua.template import build_workbook


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
    # a plain number format: `General" %"` showed «85%» typed as "0.85 %" (issue 23)
    assert cell_of(book, "HC04").number_format == "General"
    validations = {
        str(v.sqref): v for v in book["DeNghiKhenThuong"].data_validations.dataValidation
    }
    forms = next(v for ref, v in validations.items() if ref.startswith("E"))  # the form
    assert "DanhMuc" in forms.formula1
    assert "$B$" in forms.formula1  # the labels, not the codes
    kinds = {v.type for v in book["SangKien"].data_validations.dataValidation}
    assert {"date", "list"} <= kinds


def test_the_guide_explains_the_proposal_columns(cfg):
    """DeNghiKhenThuong's columns and the rules of the cycle's forms, in one A4 width."""

    def guide(cycle: str) -> str:
        book = build_workbook(cfg, cfg.unit("CQ-YT"), cfg.cycle(cycle))
        sheet = openpyxl.load_workbook(io.BytesIO(book))["Hướng dẫn"]
        assert sheet.column_dimensions["A"].width <= 80  # the A4 width, as printed
        return " ".join(str(r[0]) for r in sheet.iter_rows(values_only=True) if r[0])

    final, annual = guide("tong-ket-2030"), guide("nam-2025")
    for text in (final, annual):
        assert "Đối tượng chọn Tập thể, Cá nhân hoặc Hộ gia đình" in text
        assert "Cá nhân: ghi năm sinh (bốn chữ số, ví dụ 1985) và chọn giới tính" in text
        assert "Khen thưởng đã nhận: hình thức, số và năm quyết định" in text
    assert "Cờ thi đua chỉ tặng cho tập thể" in final
    assert "Huân chương Lao động chọn rõ hạng Nhất, Nhì hoặc Ba" in final
    assert "Cờ thi đua" not in annual and "Huân chương" not in annual  # not offered there
