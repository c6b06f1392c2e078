"""Parsing: the Vietnamese number rule, unreadable files, layout tolerance, CSV."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps import synthetic
from thidua.parse import Limits, Unreadable, parse_file
from thidua.vnnumber import read_text_number


@pytest.mark.parametrize(
    "text, value, how",
    [
        ("12", 12.0, "plain"),
        (" 0012 ", 12.0, "plain"),
        ("-3", -3.0, "plain"),
        ("1.234", 1234.0, "vi"),
        ("1.234.567", 1234567.0, "vi"),
        ("12,5", 12.5, "vi"),
        ("1.234,5", 1234.5, "vi"),
        ("1\u00a0234", 1234.0, "plain"),
        ("12.5", None, "ambiguous"),
        ("1,234", None, "ambiguous"),
        ("12,500", None, "ambiguous"),
        ("khoảng 50", None, "not_number"),
        ("15/06/2025", None, "not_number"),
        ("", None, "not_number"),
    ],
)
def test_vietnamese_number_rule(text, value, how):
    read = read_text_number(text)
    assert (read.value, read.how) == (value, how)


def test_csv_reads_a_decimal_point():
    assert read_text_number("12.5", decimal_point=True).value == 12.5
    assert read_text_number("1,234", decimal_point=True).how == "ambiguous"


@given(st.integers(min_value=0, max_value=10**12))
def test_vietnamese_thousands_round_trip(n):
    typed = f"{n:,}".replace(",", ".")
    assert read_text_number(typed).value == n


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "tệp rỗng"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Excel"),  # OLE2, not even valid
        (b"hello, this is text", "không phải tệp Excel"),
        (b"PK\x03\x04garbage", "tệp hỏng"),
        (_zip({"xl/worksheets/sheet1.xml": b"<" * (5 * 2**20)}), "nghi là zip bomb"),
        (_zip({"a.xml": b"x"}), "tệp hỏng"),  # a zip, not a workbook
    ],
)
def test_unreadable_files(data, reason):
    with pytest.raises(Unreadable, match=reason):
        parse_file("x.xlsx", data, Limits())


def test_oversized_file_is_unreadable():
    with pytest.raises(Unreadable, match="quá lớn"):
        parse_file("x.xlsx", b"PK\x03\x04" + b"\0" * 200, Limits(max_file_bytes=100))


def test_moved_column_and_blank_row_still_parse(cfg):
    import openpyxl

    unit, cycle = cfg.unit("CQ-VP"), cfg.cycle("nam-2025")
    book = openpyxl.load_workbook(io.BytesIO(synthetic.workbook(cfg, unit, cycle)))
    book["ChiTieu"].insert_rows(5)  # a blank row inside the table
    book["ChiTieu"].insert_cols(2)  # a column before "Chỉ tiêu": values move to E
    out = io.BytesIO()
    book.save(out)
    parsed = parse_file("x.xlsx", out.getvalue())
    cells = {v.code: v.cell for v in parsed.values}
    assert cells["TS01"] == "ChiTieu!E2" and cells["BD01"] == "ChiTieu!E6"
    assert parsed.info["ma_don_vi"] == ("CQ-VP", "ThongTin!C2")
    assert parsed.problems == []


def test_plan_cycle_reads_one_value_per_target_year(cfg):
    unit, cycle = cfg.unit("TX-02"), cfg.cycle("ke-hoach-2025")
    parsed = parse_file("x.xlsx", synthetic.workbook(cfg, unit, cycle))
    assert parsed.measures == ("target_2027", "target_2030")
    ts = [(v.measure, v.cell) for v in parsed.values if v.code == "TS01"]
    assert ts == [("target_2027", "ChiTieu!D2"), ("target_2030", "ChiTieu!E2")]
