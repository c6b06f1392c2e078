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
from datetime import date

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from thidua import layout
from thidua.calendar import format_date_vi, format_day_vi
from thidua.config import REVIEW_KINDS, Config, Cycle, Indicator, Unit
from thidua.emails import movements
from thidua.rollup.model import phase_years, year_label

Value = float | int | str | None
# What a unit reported and had accepted in each annual cycle: cycle id → code → value.
Earlier = Mapping[str, Mapping[str, float]]
NOT_REPORTED = "—"  # chưa báo cáo: the unit has no accepted figure of that year


def build_workbook(
    cfg: Config,
    unit: Unit,
    cycle: Cycle,
    values: Mapping[str | tuple[str, str], Value] | None = None,
    info: Mapping[str, str] | None = None,
    initiatives: Iterable[Sequence[Value]] = (),
    proposals: Iterable[Sequence[Value]] = (),
    earlier: Earlier | None = None,
) -> bytes:
    """The workbook of `unit` for `cycle` as xlsx bytes.

    With no values it is the prefilled template.  `values` maps an indicator code (or
    `(code, measure)`, measure being a value column key such as `target_2027`) to what a
    clerk typed: numbers are written as numbers, strings as text (as a clerk who types
    "1.234" into a text cell would).  `info` overrides ThongTin values; `initiatives` and
    `proposals` are rows in the column order of their sheets, without the STT column.
    A review (sơ kết, tổng kết) shows beside the inputs, read-only, the unit's accepted
    figures of each year of the phase: `earlier`, read from the warehouse by the caller
    (`pipeline.templates`); a year absent from it shows "—" (chưa báo cáo).
    """
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    fmt = _Formats(wb)
    _guide_sheet(wb, fmt, cfg, unit, cycle)
    _info_sheet(wb, fmt, cfg, unit, cycle, info or {})
    # only the indicators the unit holds (its kind, and its tags: HC01-HC03 only at the
    # public-service centre); the parser warns about a row of another unit's indicator
    indicators, basis = cfg.indicators_for(unit), basis_dates(cfg, cycle)
    indicator_sheet = _indicator_sheet(wb, fmt, indicators, cycle, values or {}, basis)
    if cycle.kind in REVIEW_KINDS:
        years = phase_years(cfg, cycle)
        _earlier_columns(indicator_sheet, fmt, indicators, cycle, years, basis, earlier or {})
    _initiatives_sheet(wb, fmt, initiatives)
    _proposals_sheet(wb, fmt, cycle, proposals)
    _lists_sheet(wb, cfg, cycle)
    wb.close()
    return buf.getvalue()


def _initiatives_sheet(wb: Workbook, fmt: _Formats, rows: Iterable[Sequence[Value]]) -> None:
    """SangKien: a date and a recognition level chosen from a list, 200 rows ready."""
    initiative_sheet = _rows_sheet(
        wb, fmt, layout.INITIATIVE_SHEET, layout.INITIATIVE_COLUMNS, rows
    )
    first, last = layout.FIRST_DATA_ROW - 1, layout.FIRST_DATA_ROW - 1 + 200
    day_col = _index(layout.INITIATIVE_COLUMNS, "applied_on")
    initiative_sheet.set_column(day_col, day_col, 14, fmt.day)
    initiative_sheet.data_validation(
        first,
        day_col,
        last,
        day_col,
        _date_validation("Ngày áp dụng", "ví dụ 15/09/2025, trong thời gian của kỳ báo cáo"),
    )
    level_col = _index(layout.INITIATIVE_COLUMNS, "recognition")
    initiative_sheet.data_validation(
        first,
        level_col,
        last,
        level_col,
        {
            "validate": "list",
            "source": _list_range("recognition"),
            "error_type": "information",
            "input_title": "Cấp công nhận",
            "input_message": "Chọn cấp công nhận sáng kiến (nếu có).",
        },
    )


def _date_validation(title: str, hint: str) -> dict:
    """A date cell's validation: a day from 2000 on, typed as ngày/tháng/năm."""
    return {
        "validate": "date",
        "criteria": ">=",
        "value": date(2000, 1, 1),
        "input_title": title,
        "input_message": f"Nhập ngày dạng ngày/tháng/năm, {hint}.",
        "error_title": title,
        "error_message": "Nhập một ngày (ngày/tháng/năm).",
    }


def _proposals_sheet(
    wb: Workbook, fmt: _Formats, cycle: Cycle, rows: Iterable[Sequence[Value]]
) -> None:
    """DeNghiKhenThuong: the reward forms allowed in the cycle, from a drop-down."""
    first, last = layout.FIRST_DATA_ROW - 1, layout.FIRST_DATA_ROW - 1 + 200
    proposal_sheet = _rows_sheet(wb, fmt, layout.PROPOSAL_SHEET, layout.PROPOSAL_COLUMNS, rows)
    proposal_sheet.data_validation(
        first, 1, last, 1, {"validate": "list", "source": _list_range("subject_type")}
    )
    gender = _index(layout.PROPOSAL_COLUMNS, "gender")
    proposal_sheet.data_validation(
        first, gender, last, gender, {"validate": "list", "source": _list_range("gender")}
    )
    year = _index(layout.PROPOSAL_COLUMNS, "birth_year")
    proposal_sheet.data_validation(
        first,
        year,
        last,
        year,
        {
            "validate": "integer",
            "criteria": "between",
            "minimum": 1900,
            "maximum": 2020,
            "error_title": "Năm sinh",
            "error_message": "Nhập năm sinh bốn chữ số của cá nhân, ví dụ 1985.",
        },
    )
    if cycle.reward_forms:
        form_col = _index(layout.PROPOSAL_COLUMNS, "reward_form")
        proposal_sheet.data_validation(
            first,
            form_col,
            last,
            form_col,
            {
                "validate": "list",
                "source": _range(1, len(cycle.reward_forms)),
                "input_title": "Hình thức đề nghị",
                "input_message": "Chọn hình thức khen thưởng được phép trong kỳ này.",
                "error_title": "Hình thức đề nghị",
                "error_message": "Chọn một hình thức trong danh sách thả xuống.",
            },
        )


def template_filename(unit: Unit, cycle: Cycle) -> str:
    return f"{cycle.id}_{unit.code}.xlsx"


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.header = wb.add_format(
            {
                "bold": True,
                "bg_color": "#DDEBF7",
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
            }
        )
        self.locked = wb.add_format(
            {"locked": True, "text_wrap": True, "valign": "top", "bg_color": "#F2F2F2"}
        )
        self.locked_percent = wb.add_format(
            {"locked": True, "valign": "top", "bg_color": "#F2F2F2", "num_format": 'General" %"'}
        )
        self.input = wb.add_format({"locked": False, "valign": "top"})
        self.input_wrap = wb.add_format({"locked": False, "text_wrap": True, "valign": "top"})
        self.day = wb.add_format({"num_format": "dd/mm/yyyy", "valign": "top"})
        self.day_input = wb.add_format(
            {"locked": False, "num_format": "dd/mm/yyyy", "valign": "top", "align": "left"}
        )
        self.title = wb.add_format({"bold": True, "font_size": 14, "text_wrap": True})
        self.heading = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F4E79"})
        self.text = wb.add_format({"text_wrap": True, "valign": "top"})
        self.sample_header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.sample_locked = wb.add_format({"bg_color": "#F2F2F2", "border": 1})
        self.sample_input = wb.add_format({"border": 1})


def _header(ws: Worksheet, fmt: _Formats, columns: Sequence[layout.Column]) -> None:
    for col, column in enumerate(columns):
        ws.write(layout.HEADER_ROW - 1, col, column.header, fmt.header)
        ws.set_column(col, col, column.width)
    ws.freeze_panes(layout.HEADER_ROW, 0)


def _write_value(
    ws: Worksheet, row: int, col: int, value: Value, cell_format: Format | None
) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, cell_format)
    elif isinstance(value, str):
        ws.write_string(row, col, value, cell_format)
    else:
        ws.write_number(row, col, value, cell_format)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _n(number: int) -> str:
    """1500 → "1.500" (Vietnamese thousands)."""
    return f"{number:,}".replace(",", ".")


def _index(columns: Sequence[layout.Column], key: str) -> int:
    return next(i for i, c in enumerate(columns) if c.key == key)


def _lists_sheet(wb: Workbook, cfg: Config, cycle: Cycle) -> None:
    """The hidden DanhMuc: the cycle's reward forms (A codes, B labels), then one
    column per fixed drop-down (`layout.DROPDOWNS`)."""
    ws = wb.add_worksheet(layout.LISTS_SHEET)
    ws.write_row(0, 0, ["Mã hình thức", "Hình thức khen thưởng"])
    for i, code in enumerate(cycle.reward_forms, start=1):
        ws.write_row(i, 0, [code, cfg.reward_forms[code]])
    for col, (header, items) in enumerate(layout.DROPDOWNS.values(), start=2):
        ws.write(0, col, header)
        ws.write_column(1, col, items)
    ws.hide()


def _range(col: int, length: int) -> str:
    """`=DanhMuc!$C$2:$C$5`: the source of a drop-down, `length` items of column `col`."""
    letter = layout.column_letter(col)
    return f"={layout.LISTS_SHEET}!${letter}$2:${letter}${1 + length}"


def _list_range(name: str) -> str:
    """The source of the fixed drop-down `name` (a key of `layout.DROPDOWNS`)."""
    col = 2 + list(layout.DROPDOWNS).index(name)
    return _range(col, len(layout.DROPDOWNS[name][1]))


GUIDE_WIDTH = 72  # column A of the guide, in character widths
GUIDE_CHARS_PER_LINE = 72  # of Vietnamese text in it, with room to spare


def _guide_sheet(wb: Workbook, fmt: _Formats, cfg: Config, unit: Unit, cycle: Cycle) -> None:
    """The first sheet: what the workbook is for, until when, and how to fill and send
    it, in Vietnamese; the colours of the other sheets explained."""
    ws = wb.add_worksheet(layout.GUIDE_SHEET)
    # one A4 page wide as printed (LibreOffice, Excel): the text column and the colour
    # samples fit the portrait width; each wrapped line gets its height (LibreOffice
    # does not grow rows to their wrapped text)
    ws.set_column(0, 0, GUIDE_WIDTH, fmt.text)
    ws.set_column(1, 1, 10)
    ws.set_paper(9)
    ws.set_portrait()
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(2)
    lines = _guide_lines(fmt, cfg, unit, cycle)
    row = 0
    for text, cell_format in lines:
        if text:
            ws.write_string(row, 0, text, cell_format)
            size = 20 if cell_format is fmt.title else 15
            ws.set_row(row, size * -(-len(text) // GUIDE_CHARS_PER_LINE))
        if text or cell_format is None:  # an empty line of content is left out
            row += 1
    ws.write_string(row, 0, "Tiêu đề cột (nền xanh nhạt).", fmt.text)
    ws.write_string(row, 1, "Tiêu đề", fmt.sample_header)
    ws.write_string(row + 1, 0, "Ô điền sẵn, đã khóa (nền xám): không sửa.", fmt.text)
    ws.write_string(row + 1, 1, "HC01", fmt.sample_locked)
    ws.write_string(row + 2, 0, "Ô trắng: đơn vị nhập số liệu, thông tin.", fmt.text)
    ws.write_blank(row + 2, 1, None, fmt.sample_input)
    ws.activate()


def _guide_lines(fmt: _Formats, cfg: Config, unit: Unit, cycle: Cycle) -> list[tuple[str, object]]:
    """The guide's lines: (text, format); an empty text with no format is a blank line."""
    s = cfg.settings
    sender, commune = s.sender, s.commune
    period = (
        f"Số liệu tính từ {format_day_vi(cycle.period_start)} đến "
        f"{format_day_vi(cycle.period_end)}."
        if cycle.period_start and cycle.period_end
        else f"Đăng ký chỉ tiêu năm {', '.join(map(str, cycle.targets))} của đơn vị."
        if cycle.targets
        else ""
    )
    moved = (
        f" (hạn theo kế hoạch là {format_day_vi(cycle.due_original)}, trùng ngày nghỉ "
        "nên chuyển sang ngày làm việc tiếp theo)"
        if cycle.due != cycle.due_original
        else ""
    )
    return [
        (f"BIỂU MẪU BÁO CÁO – {cycle.title.upper()}", fmt.title),
        (movements(commune)["movements"], fmt.text),
        (f"Thực hiện {commune.plan_ref} của {commune.authority}.", fmt.text),
        ("", None),
        ("THÔNG TIN KỲ BÁO CÁO", fmt.heading),
        (f"Kỳ báo cáo: {cycle.title} (mã kỳ: {cycle.id}).", fmt.text),
        (period, fmt.text),
        (
            (
                f"Hạn nộp: {format_day_vi(cycle.due, weekday=True)}{moved}; báo cáo nhận đến hết "
                "23 giờ 59 phút ngày này được tính là đúng hạn."
            ),
            fmt.text,
        ),
        (f"Đơn vị: {unit.name} (mã đơn vị: {unit.code}).", fmt.text),
        (
            (f"Liên hệ: {sender.name} – điện thoại {sender.phone or ''} – email {sender.email}."),
            fmt.text,
        ),
        ("", None),
        *_fill_lines(fmt, cfg, cycle),
        ("", None),
        *_send_lines(fmt, sender.email, cycle),
        ("", None),
        ("Ý NGHĨA MÀU Ô", fmt.heading),
    ]


def _send_lines(fmt: _Formats, email: str, cycle: Cycle) -> list[tuple[str, object]]:
    """How to send the workbook (and the unit's document, when the cycle asks for it)."""
    return [
        ("CÁCH GỬI", fmt.heading),
        (
            (
                f"Lưu tệp dạng Excel (.xlsx), trả lời thư đã nhận hoặc gửi tới "
                f"{email}, đính kèm tệp. Đơn vị sẽ nhận được thư xác nhận kèm "
                "danh sách lỗi cần sửa, nếu có; sửa rồi gửi lại tệp, lần gửi sau thay lần trước."
            ),
            fmt.text,
        ),
        (
            (
                f"{cycle.document_vi} của đơn vị (tệp Word .docx hoặc PDF) đính kèm cùng thư với "
                "tệp này; thư xác nhận sẽ ghi đã nhận hay chưa."
                if cycle.document_required
                else ""
            ),
            fmt.text,
        ),
    ]


def _fill_lines(fmt: _Formats, cfg: Config, cycle: Cycle) -> list[tuple[str, object]]:
    """How to fill each sheet."""
    s = cfg.settings
    titles = layout.SHEET_TITLES
    labels = dict(layout.info_keys(cycle))
    narratives = {k: labels[k] for k in layout.narrative_sections(cycle)}
    return [
        ("CÁCH ĐIỀN", fmt.heading),
        (
            (
                f"1. Trang “{titles[layout.INFO_SHEET]}” (ThongTin): ghi người lập biểu, điện thoại, "
                "ngày lập (ngày/tháng/năm, ví dụ 05/01/2026), thủ trưởng đơn vị"
                + (
                    "."
                    if cycle.targets
                    else " và các mục nội dung được tổng hợp vào báo cáo của xã: "
                    + "; ".join(_lower_first(label) for label in narratives.values())
                    + f" (mỗi mục tối đa {_n(s.checks.narrative_max_chars)} ký tự; mục nào "
                    "không có nội dung, ghi “Không có”)."
                )
                + " Mã đơn vị và mã kỳ báo cáo đã điền sẵn, không sửa."
            ),
            fmt.text,
        ),
        (
            (
                f"2. Trang “{titles[layout.INDICATOR_SHEET]}” (ChiTieu): ghi số liệu của từng chỉ "
                "tiêu vào cột giá trị; ghi 0 nếu không có. Nhập số, không kèm chữ hay đơn vị tính; "
                "phần thập phân dùng dấu phẩy (12,5); không dùng dấu phân cách hàng nghìn. Ô có/không "
                "nhập 1 (có) hoặc 0 (không). Cần giải thích thì ghi ở cột Ghi chú."
            ),
            fmt.text,
        ),
        (
            (
                "3. Tỷ lệ phần trăm (đơn vị tính %): nhập số từ 0 đến 100, ví dụ 85 (ô hiện “85”); "
                "nhập “85%” cũng được (ô hiện “85%”). Một số nhỏ hơn 1 (ví dụ 0,85) được hiểu "
                "là 85 %."
            ),
            fmt.text,
        ),
        (
            (
                f"4. Trang “{titles[layout.INITIATIVE_SHEET]}” (SangKien): mỗi sáng kiến, giải pháp "
                "một dòng; ngày áp dụng nhập dạng ngày/tháng/năm, trong thời gian của kỳ báo cáo; "
                "cấp công nhận chọn trong danh sách thả xuống."
            ),
            fmt.text,
        ),
        *_proposal_lines(fmt, cfg, cycle),
        ("6. Không xoá, không đổi tên trang tính và cột; không đặt mật khẩu cho tệp.", fmt.text),
        (EARLIER_LINE if cycle.kind in REVIEW_KINDS else "", fmt.text),
    ]


def _proposal_lines(fmt: _Formats, cfg: Config, cycle: Cycle) -> list[tuple[str, object]]:
    """How to fill DeNghiKhenThuong: the subject, the form and its rules that apply in
    the cycle, and the columns the danh sách kèm theo Tờ trình needs."""
    names = [cfg.reward_forms[f] for f in cycle.reward_forms]
    rules = [
        "Cờ thi đua chỉ tặng cho tập thể" if any(n.startswith("Cờ") for n in names) else "",
        "Huân chương Lao động chọn rõ hạng Nhất, Nhì hoặc Ba"
        if any(n.startswith("Huân chương") for n in names)
        else "",
    ]
    extra = "; ".join(r for r in rules if r)
    return [
        (
            (
                f"5. Trang “{layout.SHEET_TITLES[layout.PROPOSAL_SHEET]}” (DeNghiKhenThuong): mỗi "
                "tập thể, cá nhân, hộ gia đình một dòng. Đối tượng chọn Tập thể, Cá nhân hoặc Hộ "
                "gia đình; hình thức chọn trong danh sách thả xuống (chỉ gồm các hình thức được đề "
                f"nghị trong kỳ này{'; ' + extra if extra else ''})."
            ),
            fmt.text,
        ),
        (
            (
                "Cá nhân: ghi năm sinh (bốn chữ số, ví dụ 1985) và chọn giới tính Nam hoặc Nữ. "
                "Khen thưởng đã nhận: hình thức, số và năm quyết định (ví dụ Giấy khen của Chủ tịch "
                "UBND xã, QĐ 15/QĐ-UBND năm 2025); chưa có thì để trống."
            ),
            fmt.text,
        ),
    ]


EARLIER_LINE = (
    "7. Trang “Chỉ tiêu”: các cột bên phải cột Ghi chú (mỗi năm của giai đoạn) là số liệu "
    "đơn vị đã báo cáo và được tiếp nhận từng năm, chỉ để đối chiếu, không sửa (ô “—”: năm "
    "đó đơn vị chưa báo cáo); cột “Cách tính số liệu kỳ này” ghi cách tính giá trị cần nhập."
)


def _info_sheet(
    wb: Workbook, fmt: _Formats, cfg: Config, unit: Unit, cycle: Cycle, overrides: Mapping[str, str]
) -> None:
    ws = wb.add_worksheet(layout.INFO_SHEET)
    _header(ws, fmt, layout.INFO_COLUMNS)
    prefilled = {
        "ma_don_vi": unit.code,
        "ten_don_vi": unit.name,
        "ky_bao_cao": cycle.id,
        "email": unit.email,
    }
    labels = {"ky_bao_cao": f"Mã kỳ báo cáo ({cycle.title})"}
    narratives = layout.narrative_sections(cycle)
    for i, (key, label) in enumerate(layout.info_keys(cycle)):
        row = layout.FIRST_DATA_ROW - 1 + i
        ws.write_string(row, 0, key, fmt.locked)
        ws.write_string(row, 1, labels.get(key, label), fmt.locked)
        value = overrides.get(key, prefilled.get(key))
        key_cell = key in layout.REQUIRED_INFO_KEYS and key not in overrides
        if key in layout.DATE_INFO_KEYS:
            _write_value(ws, row, 2, value, fmt.day_input)
            ws.data_validation(row, 2, row, 2, _date_validation(label[:32], "ví dụ 05/01/2026"))
        else:
            _write_value(ws, row, 2, value, fmt.locked if key_cell else fmt.input_wrap)
        if key in narratives:
            limit = cfg.settings.checks.narrative_max_chars
            ws.set_row(row, 60)
            ws.data_validation(
                row,
                2,
                row,
                2,
                {
                    "validate": "length",
                    "criteria": "<=",
                    "value": limit,
                    "input_title": label[:32],
                    "input_message": (
                        f"Ghi ngắn gọn, tối đa {_n(limit)} ký tự; nội dung được "
                        "tổng hợp vào báo cáo của xã."
                    )[:255],
                    "error_title": label[:32],
                    "error_message": f"Tối đa {_n(limit)} ký tự; rút gọn nội dung."[:255],
                },
            )
    # column A holds the machine keys the parser reads: hidden, the clerk sees labels
    ws.set_column(0, 0, layout.INFO_COLUMNS[0].width, fmt.locked, {"hidden": True})
    ws.protect()


def basis_dates(cfg: Config, cycle: Cycle) -> list[tuple[str, date, date]]:
    """What a review or plan figure covers, per value column: (label, start, cut-off).
    A sơ kết / tổng kết reports to its own cut-off; a plan's "Chỉ tiêu 2027" is the
    target for the review of that year (sơ kết 2027: to its cut-off).  Empty for the
    annual cycles, whose period the guide states."""
    if cycle.kind in REVIEW_KINDS and cycle.period_start and cycle.period_end:
        return [("", cycle.period_start, cycle.period_end)]
    reviews = {c.year: c for c in cfg.cycles if c.kind in REVIEW_KINDS}
    return [
        (str(y), r.period_start, r.period_end)
        for y in cycle.targets
        for r in [reviews.get(y)]
        if r and r.period_start and r.period_end
    ]


def basis_vi(ind: Indicator, basis: Sequence[tuple[str, date, date]]) -> str:
    """ "lũy kế từ 21/08/2025 đến 31/10/2027" for a flow (aggregate sum), "mức đạt tại
    31/10/2027" for a stock or a rate (last, mean): how the value is to be counted."""
    parts = []
    for label, start, end in basis:
        head = f"{label}: " if label else ""
        parts.append(
            f"{head}lũy kế từ {format_date_vi(start)} đến {format_date_vi(end)}"
            if ind.aggregate == "sum"
            else f"{head}mức đạt tại {format_date_vi(end)}"
        )
    return "; ".join(parts)


def _indicator_sheet(
    wb: Workbook,
    fmt: _Formats,
    indicators: list[Indicator],
    cycle: Cycle,
    values: Mapping[str | tuple[str, str], Value],
    basis: Sequence[tuple[str, date, date]] = (),
) -> Worksheet:
    ws = wb.add_worksheet(layout.INDICATOR_SHEET)
    columns = layout.indicator_columns(cycle)
    _header(ws, fmt, columns)
    value_cols = layout.value_columns(cycle)
    first_value = len(layout.INDICATOR_LEAD)
    for i, ind in enumerate(indicators):
        row = layout.FIRST_DATA_ROW - 1 + i
        # a review or plan figure says what it covers: cumulative (flows) or a level
        name = f"{ind.name_vi} ({basis_vi(ind, basis)})" if basis else ind.name_vi
        ws.write_row(row, 0, [ind.code, name, ind.unit_vi], fmt.locked)
        for j, column in enumerate(value_cols):
            col = first_value + j
            value = values.get(
                (ind.code, column.key), values.get(ind.code) if len(value_cols) == 1 else None
            )
            _write_value(ws, row, col, value, fmt.input)
            ws.data_validation(row, col, row, col, _validation(ind))
        ws.write_blank(row, first_value + len(value_cols), None, fmt.input_wrap)
    ws.protect()
    return ws


def _earlier_columns(
    ws: Worksheet,
    fmt: _Formats,
    indicators: list[Indicator],
    cycle: Cycle,
    years: list[Cycle],
    basis: Sequence[tuple[str, date, date]],
    earlier: Earlier,
) -> None:
    """Right of Ghi chú, locked: the unit's accepted figure of each year of the phase
    ("2025 (từ 21/08)", "2026", …), then how the review value is counted ("lũy kế từ …
    đến …" / "mức đạt tại …"), so a clerk does not re-add the years by hand.  The parser
    reads the value columns by their header and never these."""
    first = len(layout.indicator_columns(cycle))
    for j, year in enumerate(years):
        ws.write(layout.HEADER_ROW - 1, first + j, year_label(year), fmt.header)
        ws.set_column(first + j, first + j, 14)
    rule_col = first + len(years)
    ws.write(layout.HEADER_ROW - 1, rule_col, RULE_HEADER, fmt.header)
    ws.set_column(rule_col, rule_col, 40)
    for i, ind in enumerate(indicators):
        row = layout.FIRST_DATA_ROW - 1 + i
        for j, year in enumerate(years):
            value = earlier.get(year.id, {}).get(ind.code)
            cell_format = fmt.locked_percent if ind.type == "percent" else fmt.locked
            _write_value(ws, row, first + j, NOT_REPORTED if value is None else value, cell_format)
        ws.write_string(row, rule_col, basis_vi(ind, basis), fmt.locked)


RULE_HEADER = "Cách tính số liệu kỳ này"


def _validation(ind: Indicator) -> dict:
    """Excel data validation matching the indicator's type and bounds."""
    message = {
        "error_title": ind.code,
        "input_title": ind.code,
        "input_message": f"Đơn vị tính: {ind.unit_vi}"[:255],
    }
    if ind.type == "bool":
        return {
            "validate": "list",
            "source": _list_range("bool"),
            "error_message": "Nhập 1 (có) hoặc 0 (không).",
            **message,
        }
    low = ind.min if ind.min is not None else 0
    if ind.type == "percent":
        # a plain number format: 85 shows 85, and "85%" typed shows 85% (the
        # spreadsheet stores 0.85 with its own percent format; read as 85)
        return {
            "validate": "decimal",
            "criteria": "between",
            "minimum": low,
            "maximum": ind.max if ind.max is not None else 100,
            "error_message": "Tỷ lệ phần trăm từ 0 đến 100, ví dụ 85 hoặc 85%.",
            **message,
            "input_message": "Tỷ lệ phần trăm (%): nhập số từ 0 đến 100, ví dụ 85 hoặc 85%.",
        }
    return {
        "validate": "integer" if ind.type == "int" else "decimal",
        "criteria": ">=",
        "value": low,
        "error_message": f"Nhập số {'nguyên ' if ind.type == 'int' else ''}"
        f"không âm ({ind.unit_vi}).",
        **message,
    }


def _rows_sheet(
    wb: Workbook,
    fmt: _Formats,
    name: str,
    columns: Sequence[layout.Column],
    rows: Iterable[Sequence[Value]],
) -> Worksheet:
    ws = wb.add_worksheet(name)
    _header(ws, fmt, columns)
    for i, values in enumerate(rows):
        row = layout.FIRST_DATA_ROW - 1 + i
        ws.write_number(row, 0, i + 1)
        for j, value in enumerate(values, start=1):
            _write_value(ws, row, j, value, None)
    return ws
