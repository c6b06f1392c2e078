"""Read a submitted workbook (python-calamine) or long-form CSV into plain rows.

Reads exactly what `thidua.layout` defines: ThongTin keys are found in column A, the
columns of the other sheets by their header in row 1, so an inserted blank row or a moved
column does not break a submission.  Every value keeps its cell (`ChiTieu!D7`).
Numbers typed as text follow `thidua.vnnumber`.  What cannot be opened raises
`Unreadable`; what is opened but wrong becomes a `Problem` for the unit.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from thidua import layout
from thidua.errors import ThiduaError
from thidua.rules import Problem, fmt, problem
from thidua.vnnumber import read_text_number

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TARGET_HEADER = re.compile(r"^chỉ tiêu (\d{4})$")
CSV_SHEET = "CSV"


class Unreadable(ThiduaError):
    "The file cannot be opened as a submission (corrupt, encrypted, empty, too big...)"


@dataclass(frozen=True)
class Limits:
    """Guards against oversized files and zip bombs (settings.toml [checks])."""
    max_file_bytes: int = 10 * 2**20
    max_unpacked_bytes: int = 20 * 2**20
    max_zip_ratio: float = 100

    @classmethod
    def from_checks(cls, checks: dict) -> Limits:
        return cls(int(checks["max_file_mb"] * 2**20), int(checks["max_unpacked_mb"] * 2**20),
                   float(checks["max_zip_ratio"]))


@dataclass
class Value:
    code: str
    measure: str            # value | target_YYYY
    value: float | None     # None: empty, or text not read (then `raw` holds it)
    raw: str | None         # the cell as typed, when it was text
    note: str | None
    cell: str


VALUE_FIELDS = ("code", "measure", "value", "raw", "note", "cell")


class ValueColumns(Sequence):
    """A submission's values held as rows `start:stop` of columns shared by a chunk of
    submissions (in `VALUE_FIELDS` order): how pool workers send them back, since one
    list per field pickles and loads far cheaper than an object per value.  Reads as a
    sequence of `Value` (made on access) and equals the list it stands for;
    `collect.values_frame` takes the columns as they are."""
    __slots__ = ("cols", "start", "stop")

    def __init__(self, cols: tuple[list, ...], start: int, stop: int) -> None:
        self.cols, self.start, self.stop = cols, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        k = range(self.start, self.stop)[i]
        return Value(*(col[k] for col in self.cols))

    def __iter__(self):
        return (Value(*row) for row in zip(*(col[self.start:self.stop] for col in self.cols)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None     # type: ignore[assignment] - mutable, like the list it stands for

    def __repr__(self) -> str:
        return repr(list(self))


@dataclass
class Parsed:
    file_format: str                                    # xlsx | csv
    info: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # key: (value, cell)
    info_sheet: bool = True                             # False: ThongTin missing
    measures: tuple[str, ...] = ()                      # value columns found in ChiTieu
    values: list[Value] = field(default_factory=list)  # or ValueColumns (from a pool)
    initiatives: list[dict] = field(default_factory=list)
    proposals: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def parse_file(name: str, data: bytes, limits: Limits = Limits()) -> Parsed:
    """Parse by content and name: CSV when the name ends in .csv, else a workbook."""
    if not data:
        raise Unreadable("tệp rỗng (0 byte)")
    if name.lower().endswith(".eml"):
        raise Unreadable("thư không kèm tệp .xlsx hoặc .csv")
    if len(data) > limits.max_file_bytes:
        raise Unreadable(f"tệp quá lớn ({len(data) // 2**20} MB)")
    if name.lower().endswith(".csv"):
        return parse_csv(data)
    return parse_xlsx(data, limits)


# -- xlsx -------------------------------------------------------------------------------

def precheck_xlsx(data: bytes, limits: Limits) -> None:
    """Refuse what is not a plain xlsx before the parser sees it (cheap: ~0.2 ms)."""
    if data[:8] == OLE2_MAGIC:
        import olefile
        try:
            with olefile.OleFileIO(io.BytesIO(data)) as ole:
                encrypted = ole.exists("EncryptedPackage")
        except Exception:  # noqa: BLE001 - olefile raises many types on a damaged file
            raise Unreadable("tệp Excel cũ (.xls) bị hỏng") from None
        raise Unreadable("tệp có đặt mật khẩu" if encrypted
                         else "tệp Excel cũ (.xls), không phải .xlsx")
    if data[:4] != b"PK\x03\x04":
        raise Unreadable("không phải tệp Excel .xlsx")
    sizes = _zip_sizes(data)
    if sizes is None:
        try:
            sizes = [(i.file_size, i.compress_size)
                     for i in zipfile.ZipFile(io.BytesIO(data)).infolist()]
        except (zipfile.BadZipFile, ValueError) as exc:
            raise Unreadable(f"tệp hỏng ({exc})") from None
    if sum(unpacked for unpacked, _ in sizes) > limits.max_unpacked_bytes:
        raise Unreadable("tệp giải nén quá lớn")
    if any(unpacked > limits.max_zip_ratio * max(packed, 1) for unpacked, packed in sizes):
        raise Unreadable("tệp nén bất thường (nghi zip bomb)")


def _zip_sizes(data: bytes) -> list[tuple[int, int]] | None:
    """Declared (unpacked, packed) size of each member, read straight from the central
    directory (5x cheaper than `zipfile`); None when the layout is unusual (zip64,
    data before the archive, damage) and `zipfile` must judge."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if end < 0 or end + 22 > len(data):
        return None
    count, cd_size, pos = struct.unpack_from("<HII", data, end + 10)
    if pos + cd_size != end or count == 0xFFFF:
        return None
    sizes = []
    for _ in range(count):
        if data[pos:pos + 4] != b"PK\x01\x02":
            return None
        packed, unpacked, n_name, n_extra, n_comment = struct.unpack_from("<IIHHH", data,
                                                                          pos + 20)
        if 0xFFFFFFFF in (packed, unpacked):      # zip64: real sizes in the extra field
            return None
        sizes.append((unpacked, packed))
        pos += 46 + n_name + n_extra + n_comment
    return sizes if pos == end else None


def parse_xlsx(data: bytes, limits: Limits = Limits()) -> Parsed:
    from python_calamine import CalamineError, CalamineWorkbook

    precheck_xlsx(data, limits)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            sheets = {name: Grid(wb.get_sheet_by_name(name)) for name in wb.sheet_names
                      if name in layout.REQUIRED_SHEETS}
        finally:
            wb.close()
    except (CalamineError, ValueError, OSError) as exc:
        raise Unreadable(f"tệp hỏng ({type(exc).__name__})") from None
    out = Parsed("xlsx")
    out.problems += [problem("missing_sheet", sheet=s, value=s)
                     for s in layout.REQUIRED_SHEETS if s not in sheets]
    if layout.INFO_SHEET in sheets:
        _read_info(sheets[layout.INFO_SHEET], out)
    else:
        out.info_sheet = False
    if layout.INDICATOR_SHEET in sheets:
        _read_indicators(sheets[layout.INDICATOR_SHEET], out)
    if layout.INITIATIVE_SHEET in sheets:
        out.initiatives = _read_table(sheets[layout.INITIATIVE_SHEET], layout.INITIATIVE_SHEET,
                                      layout.INITIATIVE_COLUMNS)
    if layout.PROPOSAL_SHEET in sheets:
        out.proposals = _read_table(sheets[layout.PROPOSAL_SHEET], layout.PROPOSAL_SHEET,
                                    layout.PROPOSAL_COLUMNS)
    return out


class Grid:
    """A sheet's cells by absolute 0-based position: calamine's dense rows, which start at
    `sheet.start` (see notes); "" and None are empty.  Read in place, no copy per cell."""
    __slots__ = ("c0", "r0", "rows")

    def __init__(self, sheet) -> None:
        start = sheet.start
        self.r0, self.c0 = start or (0, 0)
        self.rows = sheet.to_python() if start is not None else []

    def cell(self, row: list, c: int) -> object:
        """The value at column `c` of one of `rows`, None when empty."""
        j = c - self.c0
        v = row[j] if 0 <= j < len(row) else None
        return None if v == "" else v

    def get(self, r: int, c: int) -> object:
        i = r - self.r0
        return self.cell(self.rows[i], c) if 0 <= i < len(self.rows) else None

    def cells(self, row: list):
        """(column, value) of the non-empty cells of a row."""
        return ((self.c0 + j, v) for j, v in enumerate(row) if v != "" and v is not None)

    def rows_from(self, r: int):
        """(row, cells) from absolute row `r` on."""
        for i in range(max(r - self.r0, 0), len(self.rows)):
            yield self.r0 + i, self.rows[i]


@lru_cache(maxsize=1024)
def _norm(text: object) -> str:
    return unicodedata.normalize("NFC", str(text)).strip().casefold()


def _headers(grid: Grid) -> dict[str, int]:
    """Normalised header text in row 1 -> column (0-based)."""
    i = layout.HEADER_ROW - 1 - grid.r0
    if not 0 <= i < len(grid.rows):
        return {}
    row = tuple(grid.rows[i])
    return _header_map(row, tuple(map(type, row)), grid.c0)


@lru_cache(maxsize=256)
def _header_map(row: tuple, types: tuple, c0: int) -> dict[str, int]:
    """Cached: every submission of a cycle has the same header row (`types` keeps
    True and 1.0 apart).  Callers only read the dict."""
    return {_norm(v): c0 + j for j, v in enumerate(row) if v != "" and v is not None}


def _prefix(sheet: str, col0: int) -> str:
    """`ChiTieu!D` of a column: a cell's ref is this plus its 1-based row number."""
    return f"{sheet}!{layout.column_letter(col0)}"


def _text(v: object) -> str | None:
    if type(v) is str:
        return v.strip() or None
    if v is None or v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        v = v.date()
    if isinstance(v, date):
        return v.strftime("%d/%m/%Y")
    return str(v).strip() or None


def _read_info(grid: Grid, out: Parsed) -> None:
    sheet = layout.INFO_SHEET
    value_col = _headers(grid).get(_norm(layout.INFO_COLUMNS[2].header), 2)
    keys = _info_keys()
    j = -grid.c0
    value_j = value_col - grid.c0
    prefix = _prefix(sheet, value_col)
    for r, row in grid.rows_from(layout.FIRST_DATA_ROW - 1):
        n = len(row)
        v = row[j] if 0 <= j < n else None
        if v is None or v == "":
            continue
        key = keys.get(_norm(v))
        if key is not None and key not in out.info:
            out.info[key] = (_text(row[value_j]) if 0 <= value_j < n else None,
                             f"{prefix}{r + 1}")


@lru_cache(maxsize=1)
def _info_keys() -> dict[str, str]:
    return {_norm(k): k for k, _ in layout.INFO_KEYS}


def _read_indicators(grid: Grid, out: Parsed) -> None:
    sheet = layout.INDICATOR_SHEET
    headers = _headers(grid)
    code_col = headers.get(_norm(layout.INDICATOR_LEAD[0].header), 0)
    note_col = headers.get(_norm(layout.NOTE_COLUMN.header))
    measures = {}
    for h, c in headers.items():
        m = _TARGET_HEADER.match(h)
        if h == _norm("Giá trị"):
            measures["value"] = c
        elif m:
            measures[f"target_{m.group(1)}"] = c
    out.measures = tuple(measures)
    # per cell: plain indexing into calamine's rows (no method call), refs from a prefix
    c0 = grid.c0
    code_j = code_col - c0
    note_j = note_col - c0 if note_col is not None else -1
    cols = [(measure, c - c0, _prefix(sheet, c)) for measure, c in measures.items()]
    values, problems = out.values, out.problems
    for r, row in grid.rows_from(layout.FIRST_DATA_ROW - 1):
        n = len(row)
        code = _text(row[code_j]) if 0 <= code_j < n else None
        if not code:
            continue
        code = code.upper()
        note = _text(row[note_j]) if 0 <= note_j < n else None
        line = r + 1
        for measure, j, prefix in cols:
            v = row[j] if 0 <= j < n else None
            if type(v) is float:        # what calamine gives for every number
                values.append(Value(code, measure, v, None, note, f"{prefix}{line}"))
            else:
                values.append(read_value(code, measure, v, note, f"{prefix}{line}",
                                         problems))


def read_value(code: str, measure: str, v: object, note: str | None, cell: str,
               problems: list[Problem], decimal_point: bool = False) -> Value:
    """One value cell: a real number, a number typed as text (rule in vnnumber), or not."""
    if v is None or v == "":
        return Value(code, measure, None, None, note, cell)
    if isinstance(v, bool):
        return Value(code, measure, float(v), None, note, cell)
    if isinstance(v, (int, float)):
        return Value(code, measure, float(v), None, note, cell)
    raw = _text(v) or ""
    read = read_text_number(raw, decimal_point) if isinstance(v, str) else None
    if read is None or read.value is None:
        rule = "ambiguous_number" if read and read.how == "ambiguous" else "not_number"
        problems.append(problem(rule, cell, raw, code=code))
        return Value(code, measure, None, raw, note, cell)
    if read.how == "vi":
        problems.append(problem("text_number", cell, raw, code=code, read=fmt(read.value)))
    return Value(code, measure, read.value, raw, note, cell)


def _read_table(grid: Grid, sheet: str, columns: tuple[layout.Column, ...]) -> list[dict]:
    """Rows of SangKien / DeNghiKhenThuong: a row counts when any column but STT is filled."""
    headers = _headers(grid)
    cols = [(col.key, c - grid.c0, _prefix(sheet, c)) for i, col in enumerate(columns)
            for c in [headers.get(_norm(col.header), i)]]
    first = _prefix(sheet, 0)
    out = []
    for r, cells in grid.rows_from(layout.FIRST_DATA_ROW - 1):
        n = len(cells)
        row = {key: _text(cells[j]) if 0 <= j < n else None for key, j, _ in cols}
        if not any(v for k, v in row.items() if k != "row_no"):
            continue
        line = r + 1
        row["row_no"] = len(out) + 1
        row["cell"] = f"{first}{line}"
        row["cells"] = {key: f"{prefix}{line}" for key, _, prefix in cols}
        out.append(row)
    return out


# -- CSV long form --------------------------------------------------------------------

def parse_csv(data: bytes) -> Parsed:
    """`ma_don_vi,ky_bao_cao,ma_chi_tieu,gia_tri,ghi_chu`, UTF-8 (BOM tolerated).

    Cells are named `CSV!D5` (column letter, line number), like a spreadsheet would show
    the file.  Unit and cycle come from the first data row; another value on a later row
    is reported there.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("tệp CSV không ở mã UTF-8") from None
    rows = list(csv.reader(io.StringIO(text)))
    out = Parsed("csv", measures=("value",))
    header = [_norm(h) for h in rows[0]] if rows else []
    col = {name: header.index(name) for name in layout.CSV_COLUMNS if name in header}
    missing = [n for n in layout.CSV_COLUMNS[:4] if n not in col]
    if missing:
        raise Unreadable(f"tệp CSV thiếu cột {', '.join(missing)}")

    def ref(line0: int, name: str) -> str:
        return layout.cell_ref(CSV_SHEET, line0, col[name])

    for i, row in enumerate(rows[1:], start=1):
        row = row + [""] * (len(header) - len(row))
        if not any(x.strip() for x in row):
            continue
        for key in ("ma_don_vi", "ky_bao_cao"):
            v = row[col[key]].strip() or None
            if key not in out.info:
                out.info[key] = (v, ref(i, key))
            elif v != out.info[key][0]:
                out.problems.append(problem("unknown_unit" if key == "ma_don_vi"
                                            else "unknown_cycle", ref(i, key), v or ""))
        note = row[col["ghi_chu"]].strip() or None if "ghi_chu" in col else None
        code = row[col["ma_chi_tieu"]].strip().upper()
        if code:
            out.values.append(read_value(code, "value", row[col["gia_tri"]].strip(), note,
                                         ref(i, "gia_tri"), out.problems, decimal_point=True))
    return out
