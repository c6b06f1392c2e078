"""The submission workbook's layout, defined once.

The template generator writes exactly this and the parser reads exactly this, so a
change here changes both.  Sheet names carry no diacritics (formulas and tools handle
them); headers are Vietnamese.  Row 1 of every sheet is the header, data start on row 2.
The parser finds columns by header and ThongTin keys by column A, not by position, so a
clerk who inserts a blank row or moves a column does not break a submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from thidua.config import REVIEW_KINDS, Cycle

HEADER_ROW = 1  # 1-based, as Excel shows it
FIRST_DATA_ROW = 2


@dataclass(frozen=True)
class Column:
    key: str  # machine name, used in the warehouse and in rules
    header: str  # what the clerk sees in row 1
    width: int = 14


# -- ThongTin: key | Nội dung | Giá trị ---------------------------------------------
INFO_SHEET = "ThongTin"
INFO_COLUMNS = (
    Column("key", "Khóa", 14),
    Column("label", "Nội dung", 40),
    Column("value", "Giá trị", 50),
)
IDENTITY_KEYS = (
    ("ma_don_vi", "Mã đơn vị"),
    ("ten_don_vi", "Tên đơn vị"),
    ("ky_bao_cao", "Kỳ báo cáo"),
    ("nguoi_lap", "Người lập biểu"),
    ("dien_thoai", "Điện thoại liên hệ"),
    ("email", "Email liên hệ"),
    ("ngay_lap", "Ngày lập (dd/mm/yyyy)"),
    ("thu_truong", "Thủ trưởng đơn vị"),
)
# Narrative fields compiled into the commune's report (issue 12): sections II, III, V, VI.
ANNUAL_NARRATIVE = (
    ("tom_tat", "Tóm tắt kết quả nổi bật"),
    ("mo_hinh", "Mô hình, cách làm hay"),
    ("kho_khan", "Khó khăn, vướng mắc và nguyên nhân"),
    ("de_xuat", "Đề xuất, kiến nghị"),
)
# A review (sơ kết, tổng kết) asks for the phase's own assessment (plan VI.3, issue 21):
# đánh giá chung in place of the annual khó khăn, bài học and phương hướng beside it.
REVIEW_NARRATIVE = (
    ANNUAL_NARRATIVE[0],
    ANNUAL_NARRATIVE[1],
    ("uu_diem", "Ưu điểm"),
    ("han_che", "Hạn chế"),
    ("nguyen_nhan", "Nguyên nhân của hạn chế"),
    ("bai_hoc", "Bài học kinh nghiệm"),
    ("phuong_huong", "Phương hướng, nhiệm vụ thời gian tới"),
    ANNUAL_NARRATIVE[3],
)
# Every key a ThongTin sheet may carry (the parser reads any of them, in any cycle).
INFO_KEYS = tuple(dict.fromkeys(IDENTITY_KEYS + ANNUAL_NARRATIVE + REVIEW_NARRATIVE))
REQUIRED_INFO_KEYS = ("ma_don_vi", "ky_bao_cao")
DATE_INFO_KEYS = ("ngay_lap",)  # a date cell in the template, read back as dd/mm/yyyy
# Every narrative key of any cycle (what the rollup and the copy check read).  Which a
# cycle asks for, with the section of the commune's report each is compiled into:
# `narrative_sections`.  Empty or too long (settings.toml [checks]
# narrative_max_chars) is a warning, never an error.
NARRATIVE_KEYS = tuple(dict.fromkeys(k for k, _ in ANNUAL_NARRATIVE + REVIEW_NARRATIVE))
ANNUAL_SECTIONS = {
    "tom_tat": "II. Kết quả thực hiện",
    "mo_hinh": "III. Mô hình, cách làm hay",
    "kho_khan": "V. Khó khăn, vướng mắc và nguyên nhân",
    "de_xuat": "VI. Phương hướng, nhiệm vụ và đề xuất, kiến nghị",
}
REVIEW_SECTIONS = {
    "tom_tat": "II. Kết quả thực hiện",
    "mo_hinh": "III. Mô hình, cách làm hay",
    "uu_diem": "V. Đánh giá chung",
    "han_che": "V. Đánh giá chung",
    "nguyen_nhan": "V. Đánh giá chung",
    "bai_hoc": "VI. Bài học kinh nghiệm",
    "phuong_huong": "VII. Phương hướng, nhiệm vụ và đề xuất, kiến nghị",
    "de_xuat": "VII. Phương hướng, nhiệm vụ và đề xuất, kiến nghị",
}
# "Phương hướng" of a sơ kết looks to the plan's second phase
DIRECTIONS_LABEL = {"so_ket": "Phương hướng, nhiệm vụ giai đoạn 2 (2028–2030)"}


def same_text(text: str) -> str:
    """How two units' narratives are compared: spacing and case ignored, so a text copied
    from another unit (or pasted twice) is found and written once."""
    return " ".join(text.split()).casefold()


# What a unit writes when it has nothing to say (the template asks for "Không có"):
# not a narrative, never compared nor quoted
NOTHING_TO_SAY = ("không có", "không")


def says_something(text: str | None) -> bool:
    return bool(text) and same_text(text or "").strip(" .") not in NOTHING_TO_SAY


def info_keys(cycle: Cycle) -> tuple[tuple[str, str], ...]:
    """The ThongTin rows of `cycle`'s workbook, (key, label): the unit's identity, then
    the narrative fields of its kind (a review's, or the annual four; the plan cycle's
    rows are the annual ones, asked for by no check)."""
    if cycle.kind not in REVIEW_KINDS:
        return IDENTITY_KEYS + ANNUAL_NARRATIVE
    label = DIRECTIONS_LABEL.get(cycle.kind)
    return IDENTITY_KEYS + tuple(
        (k, label if k == "phuong_huong" and label else text) for k, text in REVIEW_NARRATIVE
    )


def narrative_sections(cycle: Cycle) -> dict[str, str]:
    """Narrative key → the section of the commune's report it feeds, for the fields
    `cycle` asks for (none in the plan cycle)."""
    if cycle.kind == "ke_hoach":
        return {}
    return REVIEW_SECTIONS if cycle.kind in REVIEW_KINDS else ANNUAL_SECTIONS


# -- ChiTieu: Mã | Chỉ tiêu | Đơn vị tính | <value columns> | Ghi chú ------------------
INDICATOR_SHEET = "ChiTieu"
INDICATOR_LEAD = (
    Column("code", "Mã", 8),
    Column("name", "Chỉ tiêu", 60),
    Column("unit", "Đơn vị tính", 14),
)
NOTE_COLUMN = Column("note", "Ghi chú", 30)

# -- SangKien -------------------------------------------------------------------------
INITIATIVE_SHEET = "SangKien"
INITIATIVE_COLUMNS = (
    Column("row_no", "STT", 6),
    Column("title", "Tên sáng kiến, giải pháp", 45),
    Column("author", "Tác giả", 25),
    Column("field", "Lĩnh vực", 20),
    Column("applied_on", "Ngày áp dụng", 14),
    Column("effect", "Hiệu quả", 40),
    Column("recognition", "Cấp công nhận", 18),
)

# -- DeNghiKhenThuong -----------------------------------------------------------------
PROPOSAL_SHEET = "DeNghiKhenThuong"
PROPOSAL_COLUMNS = (
    Column("row_no", "STT", 6),
    Column("subject_type", "Tập thể/Cá nhân/Hộ gia đình", 18),
    Column("name", "Họ tên hoặc tên tập thể", 35),
    Column("position", "Chức vụ, đơn vị", 30),
    Column("reward_form", "Hình thức đề nghị", 22),
    Column("summary", "Thành tích tóm tắt", 50),
    # what the danh sách kèm theo Tờ trình needs (issue 22): for a cá nhân
    Column("birth_year", "Năm sinh", 10),
    Column("gender", "Giới tính", 10),
    Column("previous_awards", "Khen thưởng đã nhận", 35),
)
SUBJECT_TYPES = ("Tập thể", "Cá nhân", "Hộ gia đình")
GENDERS = ("Nam", "Nữ")

REQUIRED_SHEETS = (INFO_SHEET, INDICATOR_SHEET, INITIATIVE_SHEET, PROPOSAL_SHEET)
LISTS_SHEET = "DanhMuc"  # hidden sheet holding drop-down lists; ignored by the parser
GUIDE_SHEET = "Hướng dẫn"  # first sheet: how to fill and send; ignored by the parser
RECOGNITION_LEVELS = ("Cấp xã", "Cấp tỉnh", "Cấp bộ, ngành", "Toàn quốc")
# The fixed drop-down lists, each a column of DanhMuc after the cycle's reward forms
# (A codes, B labels): a range, never an inline "a,b,c" list, which a comma inside an
# item ("Cấp bộ, ngành") splits in two
DROPDOWNS = {
    "recognition": ("Cấp công nhận", RECOGNITION_LEVELS),
    "subject_type": ("Tập thể/Cá nhân/Hộ gia đình", SUBJECT_TYPES),
    "gender": ("Giới tính", GENDERS),
    "bool": ("Có (1) / không (0)", (1, 0)),
}

# What a clerk calls each sheet (acknowledgments say "ô D12, trang Chỉ tiêu")
SHEET_TITLES = {
    INFO_SHEET: "Thông tin",
    INDICATOR_SHEET: "Chỉ tiêu",
    INITIATIVE_SHEET: "Sáng kiến",
    PROPOSAL_SHEET: "Đề nghị khen thưởng",
    LISTS_SHEET: "Danh mục",
    GUIDE_SHEET: GUIDE_SHEET,
}

# -- CSV long form --------------------------------------------------------------------
CSV_COLUMNS = ("ma_don_vi", "ky_bao_cao", "ma_chi_tieu", "gia_tri", "ghi_chu")


def value_columns(cycle: Cycle) -> tuple[Column, ...]:
    """The value columns of ChiTieu: one `value` column, or one `target_YYYY` per year
    the plan cycle registers targets for."""
    if cycle.targets:
        return tuple(Column(f"target_{y}", f"Chỉ tiêu {y}", 14) for y in cycle.targets)
    return (Column("value", "Giá trị", 14),)


def indicator_columns(cycle: Cycle) -> tuple[Column, ...]:
    return INDICATOR_LEAD + value_columns(cycle) + (NOTE_COLUMN,)


@lru_cache(maxsize=256)
def column_letter(index0: int) -> str:
    """0 → A, 25 → Z, 26 → AA (cached: every parsed cell is named by it)."""
    letters = ""
    n = index0 + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(sheet: str, row0: int, col0: int) -> str:
    """`ChiTieu!D7` from 0-based row and column."""
    return f"{sheet}!{column_letter(col0)}{row0 + 1}"
