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
