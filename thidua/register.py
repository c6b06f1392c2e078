"""The register of awards decided (sổ theo dõi khen thưởng, issue 22 item 5): the rows
entered by hand for awards decided outside thidua, checked one by one with Vietnamese
messages naming the row, and the rule that makes an earlier award a warning beside a
new proposal (`[awards] repeat_within`; the legal limit is to be confirmed).
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

from thidua.calendar import format_date_vi
from thidua.clock import now
from thidua.config import SUBJECTS, Config
from thidua.errors import ThiduaError
from thidua.labels import fold, match_label, read_day
from thidua.layout import GENDERS

# The danh sách workbook `register import` reads: (key, header of row 1)
ENTRY_COLUMNS = (
    ("row_no", "STT"),
    ("name", "Họ tên hoặc tên tập thể"),
    ("subject_type", "Đối tượng"),
    ("birth_year", "Năm sinh"),
    ("gender", "Giới tính"),
    ("position", "Chức vụ"),
    ("unit_name", "Đơn vị công tác"),
    ("reward_form", "Hình thức khen thưởng"),
    ("doc_no", "Số quyết định"),
    ("doc_date", "Ngày quyết định"),
    ("cycle_id", "Mã kỳ báo cáo"),
    ("summary", "Thành tích"),
)
WITHIN_VI = {
    "cycle": "trong cùng kỳ báo cáo",
    "phase": "trong cùng giai đoạn",
    "movement": "trong Phong trào",
}


class RegisterRefused(ThiduaError):
    "A hand-entered award is not valid (the message, in Vietnamese, names the row)"


@dataclass(frozen=True)
class AwardEntry:
    """An award decided outside thidua, as the officer enters it."""

    reward_form: str
    subject_type: str
    name: str
    doc_no: str
    doc_date: date
    position: str | None = None
    unit_name: str | None = None
    birth_year: int | None = None
    gender: str | None = None
    cycle_id: str | None = None
    summary: str | None = None

    def row(self) -> dict:
        return asdict(self)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def check_entry(cfg: Config, raw: Mapping[str, object], where: str) -> AwardEntry:
    """An AwardEntry from what was typed (form and subject by code or label, the date as
    dd/mm/yyyy or a date cell), or RegisterRefused naming `where` and every problem."""
    got = {k: _text(v) for k, v in raw.items()}
    problems = []
    form = match_label(got.get("reward_form"), cfg.reward_forms)
    subject = match_label(got.get("subject_type"), {s: s for s in SUBJECTS.values()})
    if not got.get("name"):
        problems.append("thiếu họ tên hoặc tên tập thể")
    if form is None:
        problems.append(
            f"hình thức “{got.get('reward_form', '')}” không có trong danh mục "
            f"({'; '.join(cfg.reward_forms.values())})"
        )
    if subject is None:
        problems.append("đối tượng phải là tập thể, cá nhân hoặc hộ gia đình")
    elif form is not None and subject not in cfg.reward_rules[form].subjects:
        problems.append(
            f"“{cfg.reward_forms[form]}” không tặng cho {subject.lower()} (chỉ cho "
            f"{', '.join(cfg.reward_rules[form].subjects).lower()})"
        )
    raw_day = raw.get("doc_date")
    day = (
        raw_day.date()
        if isinstance(raw_day, datetime)
        else raw_day
        if isinstance(raw_day, date)
        else read_day(got.get("doc_date"))
    )
    if not got.get("doc_no") or day is None:
        problems.append("cần số và ngày quyết định (dd/mm/yyyy)")
    year = got.get("birth_year") or None
    if year is not None and not (year.isdigit() and 1900 <= int(year) <= now().year):
        problems.append(f"năm sinh “{year}” phải là năm bốn chữ số, ví dụ 1985")
    gender = match_label(got.get("gender"), {g: g for g in GENDERS}) if got.get("gender") else None
    if got.get("gender") and gender is None:
        problems.append(f"giới tính phải là {' hoặc '.join(GENDERS)}")
    cycle = got.get("cycle_id") or None
    if cycle is not None and cycle not in cfg.cycles_by_id:
        problems.append(f"không có kỳ báo cáo “{cycle}”")
    if problems:
        raise RegisterRefused(f"{where}: {'; '.join(problems)}.")
    assert form is not None and subject is not None and day is not None
    return AwardEntry(
        reward_form=form,
        subject_type=subject,
        name=got["name"],
        doc_no=got["doc_no"],
        doc_date=day,
        position=got.get("position") or None,
        unit_name=got.get("unit_name") or None,
        birth_year=int(year) if year else None,
        gender=gender,
        cycle_id=cycle,
        summary=got.get("summary") or None,
    )


def read_entries(cfg: Config, path: Path) -> list[AwardEntry]:
    """Every row of a danh sách workbook (first sheet, headers of ENTRY_COLUMNS in row 1,
    any order), or RegisterRefused listing every wrong row: nothing is half-imported."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    except (CalamineError, zipfile.BadZipFile, ValueError, OSError):
        raise RegisterRefused(f"Không đọc được tệp {path.name} (cần tệp Excel .xlsx).") from None
    rows = iter(grid)
    header = [fold(_text(h)) for h in next(rows, ())]
    where = {k: header.index(fold(h)) for k, h in ENTRY_COLUMNS if fold(h) in header}
    missing = [h for k, h in ENTRY_COLUMNS if k not in where and k in ("name", "reward_form")]
    if missing:
        raise RegisterRefused(f"Tệp {path.name} thiếu cột: {', '.join(missing)} (dòng 1).")
    entries, problems = [], []
    for n, values in enumerate(rows, 2):
        raw = {k: values[i] if i < len(values) else None for k, i in where.items()}
        if all(_text(v) == "" for k, v in raw.items() if k != "row_no"):
            continue
        try:
            entries.append(check_entry(cfg, raw, f"Dòng {n}"))
        except RegisterRefused as exc:
            problems.append(str(exc))
    if problems:
        raise RegisterRefused("\n".join(problems))
    if not entries:
        raise RegisterRefused(f"Tệp {path.name} không có dòng khen thưởng nào.")
    return entries


def phase_of(cfg: Config, year: int) -> int | None:
    """The giai đoạn a year belongs to: the first phase (sơ kết, tổng kết) whose year
    is not before it."""
    phases = sorted((c.phase, c.year) for c in cfg.cycles if c.phase and c.year)
    return next((p for p, last in phases if year <= last), None)


def award_year(cfg: Config, award: Mapping) -> int | None:
    """The year of an award: its decision's, else its cycle's."""
    if award.get("doc_date") is not None:
        return int(award["doc_date"].year)
    cycle = cfg.cycles_by_id.get(award.get("cycle_id") or "")
    return cycle.year if cycle else None


def same_subject(award: Mapping, proposal: Mapping) -> bool:
    """The same person or collective: the name folded, the subject, and for a person
    with both birth years known, the year."""
    if fold(award.get("name") or "") != fold(proposal.get("name") or ""):
        return False
    if award.get("subject_type") != proposal.get("subject_type"):
        return False
    years = {_text(award.get("birth_year")), _text(proposal.get("birth_year"))} - {""}
    return len(years) <= 1


def award_vi(cfg: Config, award: Mapping) -> str:
    """ "Giấy khen của Chủ tịch UBND xã (Quyết định số 12/QĐ-UBND ngày 23/12/2025)"."""
    form = cfg.reward_forms.get(award["reward_form"], award["reward_form"])
    doc = f"Quyết định số {award['doc_no']}" if award.get("doc_no") else "Quyết định"
    if award.get("doc_date") is not None:
        doc += f" ngày {format_date_vi(award['doc_date'])}"
    return f"{form} ({doc})"


def repeat_warning(cfg: Config, history: Sequence[Mapping], proposal: Mapping) -> str | None:
    """The council's warning when `history` (the subject's register entries) holds an
    award of the same or a higher form within `[awards] repeat_within` of the proposal's
    cycle; None otherwise."""
    within = cfg.settings.awards.repeat_within
    cycle = cfg.cycle(proposal["cycle_id"])
    rank = cfg.form_rank(proposal["reward_form"])

    def inside(a: Mapping) -> bool:
        year = award_year(cfg, a)
        if within == "cycle":
            return a.get("cycle_id") == cycle.id or (not a.get("cycle_id") and year == cycle.year)
        if within == "phase":
            return (
                year is not None
                and cycle.year is not None
                and (phase_of(cfg, year) == phase_of(cfg, cycle.year))
            )
        return True

    found = [a for a in history if cfg.form_rank(a["reward_form"]) <= rank and inside(a)]
    if not found:
        return None
    return (
        f"Đã được tặng {'; '.join(award_vi(cfg, a) for a in found)} {WITHIN_VI[within]} "
        "(giới hạn khen thưởng lặp lại: căn cứ cần xác nhận)"
    )
