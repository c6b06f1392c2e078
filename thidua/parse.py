"""Read a submitted workbook (python-calamine) or long-form CSV into plain rows.

Reads exactly what `thidua.layout` defines: ThongTin keys are found in column A, the
columns of the other sheets by their header in row 1, so an inserted blank row or a moved
column does not break a submission.  Every value keeps its cell (`ChiTieu!D7`).
Numbers typed as text follow `thidua.vnnumber`.  What cannot be opened raises
`Unreadable`; what is opened but wrong becomes a `Problem` for the unit.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import math
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from thidua import layout, words
from thidua.errors import ThiduaError
from thidua.labels import read_day
from thidua.rules import Problem, fmt, problem, too_large
from thidua.vnnumber import read_text_number

if TYPE_CHECKING:
    from thidua.settings import Checks

EMPTY = "tệp rỗng, không có dữ liệu"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TARGET_HEADER = re.compile(r"^chỉ tiêu (\d{4})$")
CSV_SHEET = "CSV"


class Unreadable(ThiduaError):
    "The file cannot be opened as a submission (corrupt, encrypted, empty, too big...)"


@dataclass(frozen=True)
class Limits:
    """Guards against oversized files and zip bombs (settings.toml [checks]), and caps
    sized to the template, checked from the zip and the sheet XML before calamine sees
    a workbook: calamine allocates a dense grid up to the largest cell reference, so a
    single cell at XFD1048576 asks for hundreds of GB and aborts the process.  A filled
    report has about 30 rows and at most 10 columns a sheet; the caps leave room for a
    clerk's additions."""

    max_file_bytes: int = 10 * 2**20
    max_unpacked_bytes: int = 20 * 2**20
    max_zip_ratio: float = 100
    max_rows: int = 2000  # largest row number, per sheet
    max_columns: int = 100  # largest column (CV), per sheet
    max_cells: int = 50_000  # cells written, per sheet
    max_shared_strings_bytes: int = 2 * 2**20
    max_value: float = 1e15  # larger magnitudes are errors on their cell
    worker_memory_bytes: int = 2 * 2**30  # address space of a parsing worker
    worker_seconds: float = 60  # wall time of a chunk: this, plus
    worker_seconds_per_file: float = 1  # this for each of its files

    @classmethod
    def from_checks(cls, checks: Checks) -> Limits:
        return cls(
            int(checks.max_file_mb * 2**20),
            int(checks.max_unpacked_mb * 2**20),
            float(checks.max_zip_ratio),
        )


@dataclass
class Value:
    code: str
    measure: str  # value | target_YYYY
    value: float | None  # None: empty, or text not read (then `raw` holds it)
    raw: str | None  # the cell as typed, when it was text
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

    @overload
    def __getitem__(self, i: int) -> Value: ...
    @overload
    def __getitem__(self, i: slice) -> list[Value]: ...
    def __getitem__(self, i: int | slice) -> Value | list[Value]:
        if isinstance(i, slice):
            return [self._value(k) for k in range(*i.indices(len(self)))]
        return self._value(i)

    def _value(self, i: int) -> Value:
        k = range(self.start, self.stop)[i]
        return Value(*(col[k] for col in self.cols))

    def __iter__(self) -> Iterator[Value]:
        return (Value(*row) for row in zip(*(col[self.start : self.stop] for col in self.cols)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]  # mutable, like the list it stands for

    def __repr__(self) -> str:
        return repr(list(self))


@dataclass
class Parsed:
    file_format: str  # xlsx | csv
    info: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # key: (value, cell)
    info_sheet: bool = True  # False: ThongTin missing
    measures: tuple[str, ...] = ()  # value columns found in ChiTieu
    values: list[Value] = field(default_factory=list)  # or ValueColumns (from a pool)
    initiatives: list[dict] = field(default_factory=list)
    proposals: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def parse_file(name: str, data: bytes, limits: Limits = Limits()) -> Parsed:
    """Parse by content and name: CSV when the name ends in .csv, else a workbook."""
    if not data:
        raise Unreadable(EMPTY)
    if name.lower().endswith(".eml"):
        raise Unreadable(words.REFUSAL["no_workbook"])
    if len(data) > limits.max_file_bytes:
        raise Unreadable(too_large(len(data), round(limits.max_file_bytes / 2**20, 1)))
    if name.lower().endswith(".csv"):
        return parse_csv(data, limits)
    return parse_xlsx(data, limits)


# -- xlsx -------------------------------------------------------------------------------

_CORRUPT = "tệp hỏng, không đọc được cấu trúc nén"
_STEP = 2**20  # bytes of sheet XML inflated and scanned at a time
_REF = re.compile(rb"\sr=[\"']([A-Za-z]*)(\d*)[\"']")
_ERROR_TYPE = re.compile(rb"t=[\"']e[\"']")
_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s[^>]*?ref=[\"'](?:[^\"':]*:)?"
    rb"([A-Za-z]*)(\d*)[\"']"
)
_ERROR_CELL = re.compile(
    rb"<(?:\w+:)?c\s([^>]*?)\bt=[\"']e[\"']([^>]*)(?<!/)>"
    rb"(?:(?!</(?:\w+:)?c>).)*?<(?:\w+:)?v>([^<]*)<",
    re.DOTALL,
)
_REF_ATTR = re.compile(rb"(?:^|\s)r=[\"']([A-Za-z]+)(\d+)[\"']")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a formula tag, not <formula1> nor <font>
# a formula cell: its attributes, the formula (CT_Cell puts <f> first) and its value;
# no part can run past the next tag, so one pass stays linear on any input
_FORMULA_CELL = re.compile(
    rb"<(?:\w+:)?c\s([^>]*?)(?<!/)>\s*<(?:\w+:)?f(?:\s[^>]*?)?(?:/>|>([^<]*)</(?:\w+:)?f>)"
    rb"\s*(?:<(?:\w+:)?v>([^<]*)<|<(?:\w+:)?v\s*/>)?"
)
_STRING_TYPE = re.compile(rb"\bt=[\"']str[\"']")
_ATTR = re.compile(rb"([\w:]+)=[\"']([^\"']*)[\"']")


class CellError(str):
    """A formula error value (`#DIV/0!`, `#REF!`...) read from the sheet XML: calamine
    gives such a cell as empty, which would be reported as a value not entered."""


class Uncomputed(CellError):
    """A formula saved without its value (`=SUM(D2:D3)`), as a program that writes a
    workbook and never opens it leaves it: calamine drops such a cell altogether, which
    would be reported as a value not entered.  Excel or LibreOffice compute it on save."""


class _Member(NamedTuple):
    """One zip member as the central directory declares it (a tuple: made for every
    member of every file, 3x cheaper than a frozen dataclass)."""

    name: str
    method: int  # 0 stored, 8 deflated
    flags: int  # bit 0: encrypted
    packed: int
    unpacked: int
    offset: int  # of its local header


def first_look(data: bytes) -> str | None:
    """Why these bytes are no .xlsx at first sight (empty, a password, an old .xls,
    not a zip), else None: the parser's first check, and the web page's before it
    takes an upload, so both say it in the same words."""
    if not data:
        return EMPTY
    if data[:8] == OLE2_MAGIC:
        import olefile

        try:
            with olefile.OleFileIO(io.BytesIO(data)) as ole:
                encrypted = ole.exists("EncryptedPackage")
        except Exception:  # noqa: BLE001 - olefile raises many types on a damaged file
            return "tệp Excel cũ (.xls) bị hỏng"
        return "tệp có đặt mật khẩu" if encrypted else "tệp Excel cũ (.xls), không phải .xlsx"
    if data[:4] != b"PK\x03\x04":
        return "không phải tệp Excel .xlsx"
    return None


def precheck_xlsx(data: bytes, limits: Limits) -> dict[str, dict[tuple[int, int], CellError]]:
    """Refuse what is not a plain xlsx of a report's size before calamine sees it; return
    the formula error and uncomputed cells found, {sheet name: {(row0, col0): "#DIV/0!"}}.

    Cheap (the central directory, then one pass of a regex over each worksheet, read a
    megabyte at a time and stopped at the first cap exceeded), because what calamine
    allocates follows the largest cell reference and the declared dimension, and a
    worker it aborts takes every file of its chunk with it.  Only members under
    `worksheets/` are scanned, where every writer puts them: the other members cost
    as much again to inflate, and calamine refuses entity declarations itself.  A
    sheet moved elsewhere by hand is left to the worker's memory limit."""
    if (reason := first_look(data)) is not None:
        raise Unreadable(reason)
    members = _zip_members(data) or _zipfile_members(data)
    if sum(m.unpacked for m in members) > limits.max_unpacked_bytes:
        raise Unreadable("tệp giải nén quá lớn")
    if any(m.unpacked > limits.max_zip_ratio * max(m.packed, 1) for m in members):
        raise Unreadable("tệp nén bất thường (nghi là zip bomb)")
    errors = {}
    for m in members:
        name = m.name.lower()
        if name.endswith("sharedstrings.xml") and m.unpacked > limits.max_shared_strings_bytes:
            raise Unreadable("bảng chuỗi văn bản (sharedStrings) quá lớn")
        if "worksheets/" in name:
            found = _scan_xml(iter(_inflate(data, m)), limits)
            if found:
                errors[m.name] = found
    return _errors_by_sheet(data, members, errors) if errors else {}


def _zip_members(data: bytes) -> list[_Member] | None:
    """The members, read straight from the central directory (5x cheaper than
    `zipfile`); None when the layout is unusual (zip64, data before the archive,
    damage) and `zipfile` must judge."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if end < 0 or end + 22 > len(data):
        return None
    count, cd_size, pos = struct.unpack_from("<HII", data, end + 10)
    if pos + cd_size != end or count == 0xFFFF:
        return None
    members = []
    for _ in range(count):
        if pos + 46 > end or data[pos : pos + 4] != b"PK\x01\x02":
            return None
        flags, method = struct.unpack_from("<HH", data, pos + 8)
        packed, unpacked, n_name, n_extra, n_comment = struct.unpack_from("<IIHHH", data, pos + 20)
        offset = struct.unpack_from("<I", data, pos + 42)[0]
        if 0xFFFFFFFF in (packed, unpacked, offset):  # zip64: real values elsewhere
            return None
        name = data[pos + 46 : pos + 46 + n_name].decode("utf-8", "replace")
        members.append(_Member(name, method, flags, packed, unpacked, offset))
        pos += 46 + n_name + n_extra + n_comment
    return members if pos == end else None


def _zipfile_members(data: bytes) -> list[_Member]:
    """The members as `zipfile` reads them: the slow path, for unusual layouts."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        struct.error,
        EOFError,
        OSError,
        NotImplementedError,
    ):
        raise Unreadable(_CORRUPT) from None
    return [
        _Member(
            i.filename, i.compress_type, i.flag_bits, i.compress_size, i.file_size, i.header_offset
        )
        for i in infos
    ]


def _inflate(data: bytes, m: _Member) -> Iterator[bytes]:
    """The unpacked bytes of one member, `_STEP` at a time, never more than declared
    (a member that unpacks to more is a forged bomb, refused)."""
    if m.flags & 1:
        raise Unreadable("tệp có đặt mật khẩu")
    if data[m.offset : m.offset + 4] != b"PK\x03\x04" or m.offset + 30 > len(data):
        raise Unreadable(_CORRUPT)
    n_name, n_extra = struct.unpack_from("<HH", data, m.offset + 26)
    start = m.offset + 30 + n_name + n_extra
    raw: bytes | memoryview = memoryview(data)[start : start + m.packed]
    if len(raw) < m.packed:
        raise Unreadable(_CORRUPT)
    if m.method == 0:
        for i in range(0, min(len(raw), m.unpacked), _STEP):
            yield bytes(raw[i : min(i + _STEP, m.unpacked)])
        return
    if m.method != 8:
        raise Unreadable("tệp nén theo cách không hỗ trợ")
    inflater, done = zlib.decompressobj(-15), 0
    try:
        while raw:
            out = inflater.decompress(raw, _STEP)
            raw = inflater.unconsumed_tail
            done += len(out)
            if done > m.unpacked:
                raise Unreadable("tệp nén bất thường (nghi là zip bomb)")
            yield out
            if not out:
                break
    except zlib.error:
        raise Unreadable(_CORRUPT) from None


def _scan_xml(chunks: Iterator[bytes], limits: Limits) -> dict[tuple[int, int], CellError]:
    """Check one worksheet: no DTD (entity expansion) in its first chunk, and the caps
    (declared dimension, largest cell reference, rows, cells); return its formula
    error cells and its formulas saved without a value."""
    head = next(chunks, b"")
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise Unreadable("tệp chứa khai báo DOCTYPE/ENTITY, không phải tệp .xlsx hợp lệ")
    rows = cells = 0
    errors: dict[tuple[int, int], CellError] = {}
    for i, text in enumerate(_whole_rows(itertools.chain([head], chunks))):
        if i == 0 and (dim := _DIMENSION.search(text)):
            _check_ref(dim.group(1), dim.group(2), limits, "tệp khai báo vùng dữ liệu đến ô")
        rows += text.count(b"row>")  # </row>, </x:row>, <row>: prefixed or not,
        cells += text.count(b"c>")  # and an overcount only errs on the safe side
        if _far_refs(limits).search(text):
            _check_refs(text, limits)
        if rows > limits.max_rows:
            raise Unreadable(f"một trang tính có hơn {fmt(limits.max_rows)} dòng")
        if cells > limits.max_cells:
            raise Unreadable(f"một trang tính có hơn {fmt(limits.max_cells)} ô")
        if _ERROR_TYPE.search(text):
            errors.update(_error_cells(text))
        if _FORMULA.search(text):
            errors.update(_uncomputed_cells(text))
    return errors


def _whole_rows(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks re-cut after the last row end (else the last tag end) in each, so
    no row or tag is split between two; the rest comes with the next."""
    carry = b""
    for chunk in chunks:
        buf = carry + chunk
        end = buf.rfind(b"row>")
        cut = end + 4 if end >= 0 else buf.rfind(b">") + 1
        carry = buf[cut:]
        yield buf[:cut]
    if carry:
        yield carry


@lru_cache(maxsize=8)
def _far_refs(limits: Limits) -> re.Pattern:
    """A reference that may be beyond the caps: as many letters as the last column
    allowed or more, or as many digits as the last row.  One search finds none in a
    real report (rows < 1000, columns to Z), so its cells are never looked at one by
    one; a hit sends the text to `_check_refs`.  It starts with the literal `r=`
    (whatever precedes it: a tab is whitespace too), which the regex engine scans
    for fast; a reference has digits, so `xmlns:r="http://..."` is no hit, and
    `header="0.3"` and the like only cost a look by `_check_refs`."""
    letters = len(layout.column_letter(limits.max_columns - 1))
    digits = len(str(limits.max_rows))
    return re.compile(rb"r=[\"'](?:[A-Za-z]{%d,}\d|[A-Za-z]*\d{%d,})" % (letters, digits))


def _check_refs(text: bytes, limits: Limits) -> None:
    """Refuse the first reference in `text` beyond the caps, naming it."""
    for col, row in _REF.findall(text):
        _check_ref(col, row, limits, "tệp có ô ở vị trí" if col else "tệp có dòng")


def _check_ref(letters: bytes, digits: bytes, limits: Limits, what: str) -> None:
    """Refuse one reference beyond the caps, naming it."""
    row = int(digits or 0) if len(digits) < 12 else 10**12
    col = _column_number(letters) if len(letters) <= 3 else 10**6
    if row > limits.max_rows or col > limits.max_columns:
        ref = (letters[:10] + digits[:12]).decode("ascii", "replace")
        raise Unreadable(
            f"{what} {ref}, ngoài vùng của mẫu báo cáo (tối đa "
            f"{fmt(limits.max_rows)} dòng, đến cột "
            f"{layout.column_letter(limits.max_columns - 1)})"
        )


def _column_number(letters: bytes) -> int:
    """A → 1, Z → 26, AA → 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _error_cells(text: bytes) -> dict[tuple[int, int], CellError]:
    """{(row0, col0): "#DIV/0!"} of the cells typed `t="e"` that carry a reference."""
    out = {}
    for before, after, value in _ERROR_CELL.findall(text):
        ref = _REF_ATTR.search(before + b" " + after)
        if ref:
            out[int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1] = CellError(
                value.decode("utf-8", "replace").strip()
            )
    return out


def _uncomputed_cells(text: bytes) -> dict[tuple[int, int], CellError]:
    """{(row0, col0): "=SUM(D2:D3)"} of the formula cells with no value saved (an empty
    `<v>` or none; a text formula whose value is "" keeps its `t="str"`)."""
    out: dict[tuple[int, int], CellError] = {}
    for attrs, formula, value in _FORMULA_CELL.findall(text):
        ref = _REF_ATTR.search(attrs)
        if ref is None or value or _STRING_TYPE.search(attrs):
            continue
        shown = html.unescape(formula.decode("utf-8", "replace"))
        out[int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1] = Uncomputed(f"={shown}")
    return out


def _errors_by_sheet(
    data: bytes, members: list[_Member], errors: dict[str, dict[tuple[int, int], CellError]]
) -> dict[str, dict[tuple[int, int], CellError]]:
    """Error cells by sheet name: workbook.xml names each sheet's relationship id, its
    rels file the member it lives in.  Only read when a sheet has error cells."""
    by_name = {m.name: m for m in members}

    def read(name: str) -> bytes:
        m = by_name.get(name)
        return b"".join(_inflate(data, m)) if m else b""

    def attrs(tag: bytes) -> dict[str, str]:
        return {
            k.decode().split(":")[-1]: html.unescape(v.decode("utf-8", "replace"))
            for k, v in _ATTR.findall(tag)
        }

    targets = {}
    for tag in re.findall(rb"<(?:\w+:)?Relationship\s[^>]*>", read("xl/_rels/workbook.xml.rels")):
        a = attrs(tag)
        target = a.get("Target", "")
        targets[a.get("Id")] = target[1:] if target.startswith("/") else f"xl/{target}"
    out = {}
    for tag in re.findall(rb"<(?:\w+:)?sheet\s[^>]*>", read("xl/workbook.xml")):
        a = attrs(tag)
        member = targets.get(a.get("id"))
        if member in errors:
            out[a.get("name", "")] = errors[member]
    return out


def parse_xlsx(data: bytes, limits: Limits = Limits()) -> Parsed:
    from python_calamine import CalamineWorkbook

    errors = precheck_xlsx(data, limits)
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            sheets = {
                name: Grid(wb.get_sheet_by_name(name), errors.get(name, {}))
                for name in wb.sheet_names
                if name in layout.REQUIRED_SHEETS
            }
        finally:
            wb.close()
    except Exception as exc:  # noqa: BLE001 - calamine and the zip layer raise many types
        raise Unreadable(f"tệp hỏng ({type(exc).__name__})") from None
    except BaseException as exc:  # a Rust panic (pyo3's PanicException) is one of these
        if type(exc).__name__ != "PanicException":
            raise
        raise Unreadable("tệp hỏng, trình đọc tệp Excel dừng lỗi") from None
    out = Parsed("xlsx")
    out.problems += [
        problem("missing_sheet", sheet=s, value=s)
        for s in layout.REQUIRED_SHEETS
        if s not in sheets
    ]
    out.problems += [
        problem("formula_uncomputed", layout.cell_ref(name, r, c), value)
        for name in sheets
        for (r, c), value in sorted(errors.get(name, {}).items())
        if type(value) is Uncomputed
    ]
    if layout.INFO_SHEET in sheets:
        _read_info(sheets[layout.INFO_SHEET], out)
    else:
        out.info_sheet = False
    if layout.INDICATOR_SHEET in sheets:
        _read_indicators(sheets[layout.INDICATOR_SHEET], out, limits.max_value)
    if layout.INITIATIVE_SHEET in sheets:
        out.initiatives = _read_table(
            sheets[layout.INITIATIVE_SHEET], layout.INITIATIVE_SHEET, layout.INITIATIVE_COLUMNS
        )
    if layout.PROPOSAL_SHEET in sheets:
        out.proposals = _read_table(
            sheets[layout.PROPOSAL_SHEET], layout.PROPOSAL_SHEET, layout.PROPOSAL_COLUMNS
        )
    return out


class Grid:
    """A sheet's cells by absolute 0-based position: calamine's dense rows, which start at
    `sheet.start` (see notes); "" and None are empty.  Read in place, no copy per cell.
    Formula error cells (`errors`, from the sheet XML) are put back as `CellError`."""

    __slots__ = ("c0", "r0", "rows")

    def __init__(self, sheet: Any, errors: dict[tuple[int, int], CellError]) -> None:
        start = sheet.start
        self.r0: int
        self.c0: int
        self.r0, self.c0 = start or (0, 0)
        self.rows = sheet.to_python() if start is not None else []
        for (r, c), value in errors.items():
            i, j = r - self.r0, c - self.c0
            if i < 0 or j < 0:  # before the first cell calamine kept: the header is there
                continue
            # an uncomputed formula may lie past calamine's last row or column
            self.rows.extend([] for _ in range(i + 1 - len(self.rows)))
            self.rows[i].extend([""] * (j + 1 - len(self.rows[i])))
            self.rows[i][j] = value

    def cell(self, row: list, c: int) -> object:
        """The value at column `c` of one of `rows`, None when empty."""
        j = c - self.c0
        v = row[j] if 0 <= j < len(row) else None
        return None if v == "" else v

    def get(self, r: int, c: int) -> object:
        i = r - self.r0
        return self.cell(self.rows[i], c) if 0 <= i < len(self.rows) else None

    def cells(self, row: list) -> Iterator[tuple[int, object]]:
        """(column, value) of the non-empty cells of a row."""
        return ((self.c0 + j, v) for j, v in enumerate(row) if v != "" and v is not None)

    def rows_from(self, r: int) -> Iterator[tuple[int, list]]:
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
            value = row[value_j] if 0 <= value_j < n else None
            cell = f"{prefix}{r + 1}"
            if key in layout.DATE_INFO_KEYS and not isinstance(value, CellError):
                out.info[key] = (_info_day(key, value, cell, out.problems), cell)
            else:
                out.info[key] = (_text(value), cell)


def _info_day(key: str, value: object, cell: str, problems: list[Problem]) -> str | None:
    """A day of ThongTin (ngày lập) as dd/mm/yyyy, whether it came as a date cell, as a
    date serial without its format (46008) or as typed text ("05/01/2026"); text that is
    no day is kept as typed, and an error on its cell."""
    text = _text(value)
    if text is None:
        return None
    day = read_day(text)
    if day is None:
        label = dict(layout.INFO_KEYS)[key].split(" (")[0]
        problems.append(problem("info_date", cell, text, label=label))
        return text
    return day.strftime("%d/%m/%Y")


@lru_cache(maxsize=1)
def _info_keys() -> dict[str, str]:
    return {_norm(k): k for k, _ in layout.INFO_KEYS}


def _read_indicators(grid: Grid, out: Parsed, limit: float) -> None:
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
            # what calamine gives for every number; NaN fails the comparison too
            if type(v) is float and -limit <= v <= limit:
                values.append(Value(code, measure, v, None, note, f"{prefix}{line}"))
            else:
                values.append(
                    read_value(code, measure, v, note, f"{prefix}{line}", problems, limit)
                )


def read_value(
    code: str,
    measure: str,
    v: object,
    note: str | None,
    cell: str,
    problems: list[Problem],
    limit: float,
    decimal_point: bool = False,
) -> Value:
    """One value cell: a real number, a number typed as text (rule in vnnumber), or not.
    A formula error, a number that is not finite or beyond `limit` is an error on its
    cell and no value (the text kept in `raw`), so no later rule computes with it."""
    if v is None or v == "":
        return Value(code, measure, None, None, note, cell)
    if type(v) is CellError:
        problems.append(problem("formula_error", cell, v, code=code))
        return Value(code, measure, None, str(v), note, cell)
    if type(v) is Uncomputed:  # its problem is the workbook's (`parse_xlsx`)
        return Value(code, measure, None, str(v), note, cell)
    if isinstance(v, bool):
        return Value(code, measure, float(v), None, note, cell)
    if isinstance(v, (int, float)):
        return _bounded(code, measure, float(v), None, note, cell, problems, limit)
    raw = _text(v) or ""
    read = read_text_number(raw, decimal_point) if isinstance(v, str) else None
    if read is None or read.value is None:
        rule = "ambiguous_number" if read and read.how == "ambiguous" else "not_number"
        problems.append(problem(rule, cell, raw, code=code))
        return Value(code, measure, None, raw, note, cell)
    if read.how == "vi":
        problems.append(problem("text_number", cell, raw, code=code, read=fmt(read.value)))
    return _bounded(code, measure, read.value, raw, note, cell, problems, limit)


def _bounded(
    code: str,
    measure: str,
    x: float,
    raw: str | None,
    note: str | None,
    cell: str,
    problems: list[Problem],
    limit: float,
) -> Value:
    """The Value of number `x`, or an error on its cell when it is not finite or its
    magnitude is beyond `limit` (1.7e308 passes every bound a rule sets, inf breaks
    the arithmetic of the cross-field rules)."""
    if -limit <= x <= limit:
        return Value(code, measure, x, raw, note, cell)
    shown = raw or repr(x)
    if math.isfinite(x):
        problems.append(problem("number_too_large", cell, shown, code=code, limit=fmt(limit)))
    else:
        problems.append(problem("not_finite", cell, shown, code=code))
    return Value(code, measure, None, shown, note, cell)


def _read_table(grid: Grid, sheet: str, columns: tuple[layout.Column, ...]) -> list[dict]:
    """Rows of SangKien / DeNghiKhenThuong: a row counts when any column but STT is filled."""
    headers = _headers(grid)
    cols = [
        (col.key, c - grid.c0, _prefix(sheet, c))
        for i, col in enumerate(columns)
        for c in [headers.get(_norm(col.header), i)]
    ]
    first = _prefix(sheet, 0)
    out: list[dict] = []
    for r, cells in grid.rows_from(layout.FIRST_DATA_ROW - 1):
        n = len(cells)
        row: dict[str, Any] = {key: _text(cells[j]) if 0 <= j < n else None for key, j, _ in cols}
        if not any(v for k, v in row.items() if k != "row_no"):
            continue
        line = r + 1
        row["row_no"] = len(out) + 1
        row["cell"] = f"{first}{line}"
        row["cells"] = {key: f"{prefix}{line}" for key, _, prefix in cols}
        out.append(row)
    return out


# -- CSV long form --------------------------------------------------------------------


def parse_csv(data: bytes, limits: Limits = Limits()) -> Parsed:
    """`ma_don_vi,ky_bao_cao,ma_chi_tieu,gia_tri,ghi_chu`, UTF-8 (BOM tolerated).

    Cells are named `CSV!D5` (column letter, line number), like a spreadsheet would show
    the file.  Unit and cycle come from the first data row; another value on a later row
    is reported there.  A file without data rows has no ThongTin-like keys to miss: it
    is reported as header only.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Unreadable("tệp CSV không ở mã UTF-8") from None
    rows = _csv_rows(text)
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
                out.problems.append(
                    problem(
                        "unknown_unit" if key == "ma_don_vi" else "unknown_cycle",
                        ref(i, key),
                        v or "",
                    )
                )
        note = row[col["ghi_chu"]].strip() or None if "ghi_chu" in col else None
        code = row[col["ma_chi_tieu"]].strip().upper()
        if code:
            out.values.append(
                read_value(
                    code,
                    "value",
                    row[col["gia_tri"]].strip(),
                    note,
                    ref(i, "gia_tri"),
                    out.problems,
                    limits.max_value,
                    decimal_point=True,
                )
            )
    if not out.info:
        out.info_sheet = False  # nothing to look for unit and cycle in
        out.problems.append(problem("header_only", sheet=CSV_SHEET))
    return out


def _csv_rows(text: str) -> list[list[str]]:
    """The CSV's rows.  `newline=""` as the csv module asks: lines ended by CR alone
    (old Mac) are then read, not refused.  What it still refuses (a field over its
    128 KB limit, a NUL byte) is unreadable, with the reason in words."""
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        too_long = "field larger than field limit" in str(exc)
    raise Unreadable(
        f"tệp CSV có ô dài quá {csv.field_size_limit() // 1024} KB"
        if too_long
        else "tệp CSV sai định dạng"
    )
