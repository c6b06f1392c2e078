"""The submission workbook: the prefilled template a unit receives, or a filled one.

Built from `thidua.layout` with XlsxWriter (in memory, ~3 ms a file).  Key cells (the
unit code, the cycle, indicator codes and names) are locked and the sheets protected
without a password: it stops slips, not people.  Value cells carry data validation by
indicator type, and drop-downs list the allowed answers.  Nothing collected is a
formula: parsers read cached values only (see shared notes on xlsx parsing).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import xlsxwriter

from thidua import layout
from thidua.config import Config, Cycle, Indicator, Unit

Value = float | int | str | None


def build_workbook(cfg: Config, unit: Unit, cycle: Cycle,
                   values: Mapping[str | tuple[str, str], Value] | None = None,
                   info: Mapping[str, str] | None = None,
                   initiatives: Iterable[Sequence[Value]] = (),
                   proposals: Iterable[Sequence[Value]] = ()) -> bytes:
    """The workbook of `unit` for `cycle` as xlsx bytes.

    With no values it is the prefilled template.  `values` maps an indicator code (or
    `(code, measure)`, measure being a value column key such as `target_2027`) to what a
    clerk typed: numbers are written as numbers, strings as text (as a clerk who types
    "1.234" into a text cell would).  `info` overrides ThongTin values; `initiatives` and
    `proposals` are rows in the column order of their sheets, without the STT column.
    """
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    fmt = _Formats(wb)
    _info_sheet(wb, fmt, cfg, unit, cycle, info or {})
    _indicator_sheet(wb, fmt, cfg.indicators_for(unit.kind), cycle, values or {})
    _rows_sheet(wb, fmt, layout.INITIATIVE_SHEET, layout.INITIATIVE_COLUMNS, initiatives)
    proposal_sheet = _rows_sheet(wb, fmt, layout.PROPOSAL_SHEET, layout.PROPOSAL_COLUMNS,
                                 proposals)
    last = layout.FIRST_DATA_ROW - 1 + 200
    proposal_sheet.data_validation(layout.FIRST_DATA_ROW - 1, 1, last, 1, {
        "validate": "list", "source": list(layout.SUBJECT_TYPES)})
    if cycle.reward_forms:
        proposal_sheet.data_validation(layout.FIRST_DATA_ROW - 1, 4, last, 4, {
            "validate": "list",
            "source": f"={layout.LISTS_SHEET}!$A$2:$A${1 + len(cycle.reward_forms)}",
            "input_title": "Hình thức đề nghị",
            "input_message": "Chọn mã hình thức khen thưởng được phép trong kỳ này."})
    _lists_sheet(wb, cfg, cycle)
    wb.close()
    return buf.getvalue()


def write_template(cfg: Config, unit: Unit, cycle: Cycle, path: Path) -> Path:
    """Write the prefilled template of `unit` for `cycle` to `path`."""
    path.write_bytes(build_workbook(cfg, unit, cycle))
    return path


def template_filename(unit: Unit, cycle: Cycle) -> str:
    return f"{cycle.id}_{unit.code}.xlsx"


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                     "text_wrap": True, "valign": "vcenter"})
        self.locked = wb.add_format({"locked": True, "text_wrap": True, "valign": "top",
                                     "bg_color": "#F2F2F2"})
        self.input = wb.add_format({"locked": False, "valign": "top"})
        self.input_wrap = wb.add_format({"locked": False, "text_wrap": True, "valign": "top"})


def _header(ws, fmt: _Formats, columns: Sequence[layout.Column]) -> None:
    for col, column in enumerate(columns):
        ws.write(layout.HEADER_ROW - 1, col, column.header, fmt.header)
        ws.set_column(col, col, column.width)
    ws.freeze_panes(layout.HEADER_ROW, 0)


def _write_value(ws, row: int, col: int, value: Value, cell_format) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, cell_format)
    elif isinstance(value, str):
        ws.write_string(row, col, value, cell_format)
    else:
        ws.write_number(row, col, value, cell_format)


def _lists_sheet(wb, cfg: Config, cycle: Cycle) -> None:
    ws = wb.add_worksheet(layout.LISTS_SHEET)
    ws.write_row(0, 0, ["Mã hình thức", "Hình thức khen thưởng"])
    for i, code in enumerate(cycle.reward_forms, start=1):
        ws.write_row(i, 0, [code, cfg.reward_forms[code]])
    ws.hide()


def _info_sheet(wb, fmt: _Formats, cfg: Config, unit: Unit, cycle: Cycle,
                overrides: Mapping[str, str]) -> None:
    ws = wb.add_worksheet(layout.INFO_SHEET)
    _header(ws, fmt, layout.INFO_COLUMNS)
    prefilled = {"ma_don_vi": unit.code, "ten_don_vi": unit.name, "ky_bao_cao": cycle.id,
                 "email": unit.email}
    for i, (key, label) in enumerate(layout.INFO_KEYS):
        row = layout.FIRST_DATA_ROW - 1 + i
        ws.write_string(row, 0, key, fmt.locked)
        ws.write_string(row, 1, label, fmt.locked)
        value = overrides.get(key, prefilled.get(key))
        key_cell = key in layout.REQUIRED_INFO_KEYS and key not in overrides
        _write_value(ws, row, 2, value, fmt.locked if key_cell else fmt.input_wrap)
    ws.protect()


def _indicator_sheet(wb, fmt: _Formats, indicators: list[Indicator], cycle: Cycle,
                     values: Mapping[str | tuple[str, str], Value]) -> None:
    ws = wb.add_worksheet(layout.INDICATOR_SHEET)
    columns = layout.indicator_columns(cycle)
    _header(ws, fmt, columns)
    value_cols = layout.value_columns(cycle)
    first_value = len(layout.INDICATOR_LEAD)
    for i, ind in enumerate(indicators):
        row = layout.FIRST_DATA_ROW - 1 + i
        ws.write_row(row, 0, [ind.code, ind.name_vi, ind.unit_vi], fmt.locked)
        for j, column in enumerate(value_cols):
            col = first_value + j
            value = values.get((ind.code, column.key),
                               values.get(ind.code) if len(value_cols) == 1 else None)
            _write_value(ws, row, col, value, fmt.input)
            ws.data_validation(row, col, row, col, _validation(ind))
        ws.write_blank(row, first_value + len(value_cols), None, fmt.input_wrap)
    ws.protect()


def _validation(ind: Indicator) -> dict:
    """Excel data validation matching the indicator's type and bounds."""
    message = {"error_title": ind.code, "input_title": ind.code,
               "input_message": f"Đơn vị tính: {ind.unit_vi}"[:255]}
    if ind.type == "bool":
        return {"validate": "list", "source": ["0", "1"],
                "error_message": "Nhập 1 (có) hoặc 0 (không).", **message}
    low = ind.min if ind.min is not None else 0
    if ind.type == "percent":
        return {"validate": "decimal", "criteria": "between", "minimum": low,
                "maximum": ind.max if ind.max is not None else 100,
                "error_message": "Tỷ lệ phần trăm từ 0 đến 100.", **message}
    return {"validate": "integer" if ind.type == "int" else "decimal",
            "criteria": ">=", "value": low,
            "error_message": f"Nhập số {'nguyên ' if ind.type == 'int' else ''}"
                             f"không âm ({ind.unit_vi}).", **message}


def _rows_sheet(wb, fmt: _Formats, name: str, columns: Sequence[layout.Column],
                rows: Iterable[Sequence[Value]]):
    ws = wb.add_worksheet(name)
    _header(ws, fmt, columns)
    for i, values in enumerate(rows):
        row = layout.FIRST_DATA_ROW - 1 + i
        ws.write_number(row, 0, i + 1)
        for j, value in enumerate(values, start=1):
            _write_value(ws, row, j, value, None)
    return ws
