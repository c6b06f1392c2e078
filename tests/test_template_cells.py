"""The template's cells as real spreadsheets show them (issue 23 item 4): drop-downs
from the hidden DanhMuc sheet, percent cells in a plain number format, date cells, a
formula saved without its value, and refusal reasons that keep their Vietnamese
parentheses.  Real workbooks, written by the template and filled with openpyxl."""

from __future__ import annotations

import io
import re
import time
from datetime import datetime

import openpyxl
import pytest
import xlsxwriter
from helpers import cell_of, check_email, drop, excel_fill, rows

from apps import synthetic
from pipeline.collect import collect
from thidua import layout, words
from thidua.parse import Uncomputed, _uncomputed_cells, parse_file
from thidua.rules import plain_reason
from thidua.template import build_workbook
from thidua.workspace import Workspace

RANGE = re.compile(r"^DanhMuc!\$([A-Z])\$2:\$\1\$(\d+)$")


def _date_row(book) -> int:
    """The ThongTin row of ngày lập (column A holds the keys)."""
    return next(r[0].row for r in book["ThongTin"].iter_rows(min_row=2) if r[0].value == "ngay_lap")


def test_every_dropdown_is_a_range_of_danhmuc(cfg):
    """Every list validation of every cycle's template (plan, annual, reviews), for a
    unit of each kind, is a range of the hidden DanhMuc whose cells are the items:
    "Cấp bộ, ngành" stays one item, as an inline "a,b,c" list would split it."""
    units = {u.kind: u for u in cfg.units}.values()
    seen: dict[str, set] = {}
    for cycle in cfg.cycles:
        for unit in units:
            book = openpyxl.load_workbook(io.BytesIO(build_workbook(cfg, unit, cycle)))
            assert book["DanhMuc"].sheet_state == "hidden"
            for sheet in book.worksheets:
                for dv in sheet.data_validations.dataValidation:
                    if dv.type != "list":
                        continue
                    found = RANGE.match(dv.formula1 or "")
                    assert found, (cycle.id, sheet.title, dv.sqref, dv.formula1)
                    column, last = found.group(1), int(found.group(2))
                    items = [book["DanhMuc"][f"{column}{r}"].value for r in range(2, last + 1)]
                    assert None not in items and dv.showErrorMessage
                    seen.setdefault(f"{sheet.title}!{str(dv.sqref)[0]}", set()).add(tuple(items))
    assert seen["SangKien!G"] == {layout.RECOGNITION_LEVELS}
    assert seen["DeNghiKhenThuong!B"] == {layout.SUBJECT_TYPES}
    assert seen["DeNghiKhenThuong!H"] == {layout.GENDERS}
    assert (1, 0) in seen["ChiTieu!D"]  # DN02, a yes/no of the companies
    forms = {f for items in seen["DeNghiKhenThuong!E"] for f in items}
    assert forms <= set(cfg.reward_forms.values()) and forms


def test_percent_and_date_cells_have_their_formats(cfg):
    """A percent cell has a plain number format (85 shows 85; "85%" typed is stored
    0.85 with the spreadsheet's own percent format and shows 85%) and a 0-100 validation;
    ngày lập is a dd/mm/yyyy cell with a date validation; the guide says both."""
    book = openpyxl.load_workbook(
        io.BytesIO(build_workbook(cfg, cfg.unit("CQ-YT"), cfg.cycle("nam-2025")))
    )
    hc04 = cell_of(book, "HC04")
    assert hc04.number_format == "General" and not hc04.protection.locked
    [rule] = [
        v for v in book["ChiTieu"].data_validations.dataValidation if hc04.coordinate in v.sqref
    ]
    bounds = (float(rule.formula1), float(rule.formula2))
    assert (rule.type, rule.operator or "between", bounds) == ("decimal", "between", (0, 100))
    day = book["ThongTin"][f"C{_date_row(book)}"]
    assert day.number_format == "dd/mm/yyyy" and not day.protection.locked
    [rule] = [
        v for v in book["ThongTin"].data_validations.dataValidation if day.coordinate in v.sqref
    ]
    assert rule.type == "date" and rule.showErrorMessage
    guide = " ".join(str(r[0]) for r in book["Hướng dẫn"].iter_rows(values_only=True) if r[0])
    assert "ví dụ 85 (ô hiện “85”); nhập “85%” cũng được (ô hiện “85%”)" in guide
    assert "ngày lập (ngày/tháng/năm, ví dụ 05/01/2026)" in guide


@pytest.mark.parametrize(
    "typed, number_format, read",
    [
        (datetime(2026, 1, 5), "dd/mm/yyyy", "05/01/2026"),  # a date cell
        (46027, "General", "05/01/2026"),  # its serial, as ExcelJS and PyExcelerate store it
        ("05/01/2026", "@", "05/01/2026"),  # typed as text
        (46008, "General", "17/12/2025"),
        ("2026-01-05", "@", "05/01/2026"),
    ],
)
def test_date_cell_reads_one_day_however_stored(cfg, typed, number_format, read):
    template = build_workbook(cfg, cfg.unit("CQ-YT"), cfg.cycle("nam-2025"))

    def fill(book):
        cell = book["ThongTin"][f"C{_date_row(book)}"]
        cell.value, cell.number_format = typed, number_format

    parsed = parse_file("bao-cao.xlsx", excel_fill(template, fill))
    assert parsed.info["ngay_lap"][0] == read
    assert parsed.problems == []


def test_a_wrong_date_is_an_error_naming_its_cell(cfg):
    template = build_workbook(cfg, cfg.unit("CQ-YT"), cfg.cycle("nam-2025"))
    row = _date_row(openpyxl.load_workbook(io.BytesIO(template)))

    def fill(book):
        book["ThongTin"][f"C{row}"] = "32/01/2026"

    [found] = parse_file("bao-cao.xlsx", excel_fill(template, fill)).problems
    assert (found.rule_id, found.severity, found.cell) == ("info_date", "error", f"ThongTin!C{row}")
    assert found.message_vi == "Ngày lập “32/01/2026” (trang Thông tin) không phải là một ngày."


def test_formula_without_a_cached_value_says_so(workspace, smtp_env, cfg):
    """A formula saved by a program that never computed it (openpyxl writes `<v></v>`)
    is an error naming its cell with «công thức chưa được tính; mở tệp bằng Excel hoặc
    LibreOffice rồi lưu lại», never «Chưa nhập giá trị»; the percent typed «85%» and a
    ngày lập stored as a serial are read right in the same file."""
    ws = Workspace.from_env()
    unit, cycle = cfg.unit("CQ-YT"), cfg.cycle("nam-2025")

    def fill(book):
        cell_of(book, "TT02").value = "=SUM(1,2)"
        hc04 = cell_of(book, "HC04")
        hc04.value, hc04.number_format = 0.85, "0%"
        book["ThongTin"][f"C{_date_row(book)}"] = 46027

    workbook = synthetic.workbook(cfg, unit, cycle)
    tt02 = cell_of(openpyxl.load_workbook(io.BytesIO(workbook)), "TT02").coordinate
    drop(ws.paths.inbox, "bao-cao.xlsx", excel_fill(workbook, fill))
    collect(ws, docs=False)
    found = rows(ws, "SELECT rule_id, cell FROM validation_results")
    assert found == [("formula_uncomputed", f"ChiTieu!{tt02}")]
    assert rows(ws, "SELECT value FROM submission_info WHERE key = 'ngay_lap'") == [("05/01/2026",)]
    values = dict(
        rows(
            ws, "SELECT indicator_code, value FROM submission_values WHERE indicator_code = 'HC04'"
        )
    )
    assert values == {"HC04": 85}
    [got] = smtp_env.received
    text = got.message.get_body(("plain",)).get_content()
    assert words.UNCOMPUTED_FORMULA in text and "=SUM(1,2)" in text
    assert "Chưa nhập giá trị" not in text
    assert check_email(got.message) == []


def test_a_cached_formula_value_is_read():
    """A formula with its value saved (Excel, LibreOffice, XlsxWriter given `value=`)
    is read as that value, with no problem."""
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("ChiTieu")
    sheet.write_row(0, 0, ["Mã", "Chỉ tiêu", "Đơn vị tính", "Giá trị"])
    sheet.write_row(1, 0, ["TT02", "Số", "người"])
    sheet.write_formula(1, 3, "=10+20", None, 30)
    book.close()
    parsed = parse_file("bao-cao.xlsx", buf.getvalue())
    assert [(v.code, v.value, v.raw) for v in parsed.values] == [("TT02", 30.0, None)]
    assert {p.rule_id for p in parsed.problems} == {"missing_sheet"}


@pytest.mark.parametrize(
    "reason",
    [
        words.REFUSAL["format"].format(suffix=".ods"),
        "tệp nén bất thường (nghi là zip bomb)",
        "tệp Excel cũ (.xls), không phải .xlsx",
    ],
)
def test_reasons_keep_their_vietnamese_parentheses(reason):
    assert plain_reason(reason) == reason
    assert plain_reason("tệp hỏng (BadZipFile)") == "tệp hỏng"


def test_uncomputed_formulas_found_in_the_sheet_xml_in_linear_time():
    """Empty `<v>`, `<v/>`, no `<v>`, a namespace prefix and a shared formula's
    dependent cell are uncomputed; a saved value or a text formula whose value is ""
    is not; an unclosed hostile sheet is scanned in one pass."""
    sheet = (
        b'<row r="1"><c r="A1" t="n"><v>1</v></c><c r="B1"><f>SUM(A1:A1)</f><v></v></c>'
        b'<c r="C1"><f t="shared" si="0"/></c><c r="D1"><f>1+1</f><v>2</v></c>'
        b'<c r="E1" t="str"><f>""</f><v></v></c><x:c r="F1"><x:f>A1&amp;1</x:f><x:v/></x:c>'
        b'<c r="G1"><f>1</f></c></row>'
    )
    found = _uncomputed_cells(sheet)
    assert found == {(0, 1): "=SUM(A1:A1)", (0, 2): "=", (0, 5): "=A1&1", (0, 6): "=1"}
    assert all(type(v) is Uncomputed for v in found.values())
    started = time.perf_counter()
    _uncomputed_cells(b'<c r="A1"><f>1</f>' + b'<c r="A1"><v>1</v>' * 60_000)
    assert time.perf_counter() - started < 5  # a quadratic scan took minutes
