"""What a rollup is about: its cycle, the years a phase spans, the plan whose targets it
checks, the derived ratios and the Vietnamese labels.  Pure: no I/O, no heavy imports."""

from __future__ import annotations

from datetime import date

from thidua import package, words
from thidua.config import REVIEW_KINDS, Config, Cycle
from thidua.errors import UnknownCycle
from thidua.settings import Settings

STATUS_VI = words.REPORTING_STATUS
TYPE_RULE_VI = {
    "percent": "Bình quân gia quyền theo {weight}",
    "bool": "Số đơn vị trả lời có (1)",
    "int": "Tổng",
    "decimal": "Tổng",
}
PHASE_KINDS = REVIEW_KINDS
# The plan's criteria groups (plan 22/KH-UBND III.1 a–d), in the plan's order, by the unit
# kind that reports them; villages (named in plan part II) follow; individuals (d) do not
# report: they appear through initiatives and commendation proposals.
CRITERIA_GROUPS = (
    ("co_quan", "a) Đối với các ban, ngành, cơ quan, đơn vị"),
    ("mat_tran_doan_the", ("b) Đối với Ủy ban Mặt trận Tổ quốc Việt Nam xã và các tổ chức xã hội")),
    ("doanh_nghiep", "c) Đối với các doanh nghiệp"),
    ("thon_xom", "Đối với các thôn, xóm"),
)
INDIVIDUALS_GROUP = "d) Đối với cá nhân"


def criteria_groups(kinds: dict[str, str]) -> list[tuple[str, str]]:
    """(kind, heading) in the plan's order; a kind the plan does not name comes last,
    headed by its name in settings [kinds]."""
    known = [(k, h) for k, h in CRITERIA_GROUPS if k in kinds]
    return known + [(k, v) for k, v in kinds.items() if k not in dict(CRITERIA_GROUPS)]


def ratio_names(cfg: Config) -> dict[str, str]:
    """Vietnamese name of each derived ratio of the config (`[rollup] ratios`)."""
    return {r.key: r.name_vi for r in cfg.settings.rollup.ratios}


class NotARollupCycle(UnknownCycle):
    "No annual cycle for that year, or no phase with that number"


def period_of(cycle: Cycle) -> tuple[date, date]:
    """The data period of a cycle a report covers (annual and phase cycles have one)."""
    if cycle.period_start is None or cycle.period_end is None:
        raise NotARollupCycle(f"cycle {cycle.id} has no data period")
    return cycle.period_start, cycle.period_end


def annual_cycle(cfg: Config, year: int) -> Cycle:
    for c in cfg.cycles:
        if c.kind == "nam" and c.year == year:
            return c
    known = ", ".join(str(c.year) for c in cfg.cycles if c.kind == "nam")
    raise NotARollupCycle(f"no annual cycle for {year} (known years: {known})")


def annual_rollup_day(cfg: Config, cycle: Cycle) -> date:
    """When the annual rollup runs: the working day after the cycle's (moved) due date."""
    return cfg.calendar.add_working_days(cycle.due, 1)


def phase_cycle(cfg: Config, phase: int) -> Cycle:
    for c in cfg.cycles:
        if c.kind in PHASE_KINDS and c.phase == phase:
            return c
    known = ", ".join(str(c.phase) for c in cfg.cycles if c.kind in PHASE_KINDS)
    raise NotARollupCycle(f"no phase {phase} (known phases: {known})")


FULL_YEAR_DAYS = 360  # an annual cycle shorter than this is labelled with its first day


def year_label(cycle: Cycle) -> str:
    """ "2026", or "2025 (từ 21/08)" for a year the plan covers only in part."""
    start, end = period_of(cycle)
    days = (end - start).days + 1
    return str(cycle.year) if days >= FULL_YEAR_DAYS else f"{cycle.year} (từ {date_vi(start)[:5]})"


def phase_years(cfg: Config, phase: Cycle) -> list[Cycle]:
    """The annual cycles whose period lies inside the phase's period, oldest first."""
    start, end = period_of(phase)
    years = [c for c in cfg.cycles if c.kind == "nam" and c.year is not None]
    return sorted(
        (c for c in years if start <= period_of(c)[0] and period_of(c)[1] <= end),
        key=lambda c: c.year or 0,
    )


def plan_for(cfg: Config, phase: Cycle) -> Cycle | None:
    """The plan cycle in which units registered targets for the phase's final year."""
    return next((c for c in cfg.cycles if c.kind == "ke_hoach" and phase.year in c.targets), None)


def plan_cycle(cfg: Config, cycle: Cycle) -> Cycle | None:
    """The plan cycle (units issue their own plans) before `cycle`: the latest ke_hoach
    cycle due no later than it."""
    plans = [c for c in cfg.cycles if c.kind == "ke_hoach" and c.due <= cycle.due]
    return max(plans, key=lambda c: c.due) if plans else None


def is_draft(cycle: Cycle, today: date) -> bool:
    """A rollup made on or before the units' due date (which comes after the data
    cut-off) counts figures that may still change: a draft (dự thảo)."""
    return today <= cycle.due


DRAFT_VI = "DỰ THẢO – số liệu tạm tính"


def date_vi(d: date) -> str:
    """dd/mm/yyyy, the style of every date in the report's body."""
    return d.strftime("%d/%m/%Y")


def date_line_vi(place: str, d: date) -> str:
    """Place and date as Decree 30/2020 writes them: day < 10 and months 1–2 take a 0."""
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"{place}, ngày {d.day:02d} tháng {month} năm {d.year}"


def number_vi(v: float | None, decimals: int = 2) -> str:
    """Vietnamese number style: 1.234,56 (dot thousands, comma decimals); '—' for none."""
    if v is None or v != v:  # noqa: PLR0124 - NaN check without importing pandas
        return "—"
    v = round(float(v), decimals)
    text = f"{v:,.{decimals}f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v):,}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def packaged_counts(tables: dict, settings: Settings) -> tuple[float, float] | None:
    """(initiatives, proposals) summed from the units' package counts when this tier is
    fed by packages (`[rollup] initiatives` is `package.INITIATIVES`): it has no rows of
    either, only each commune's counts.  None at a commune."""
    if settings.rollup.initiatives != package.INITIATIVES:
        return None
    totals = tables["indicators"].set_index("indicator_code")["total"]
    initiatives, proposals = (
        float(totals.get(code, 0) or 0) for code in (package.INITIATIVES, package.PROPOSALS)
    )
    return initiatives, proposals


def percent_vi(v: float | None) -> str:
    """A percentage as the report writes it: 52,3% (one decimal); '—' for none."""
    return "—" if v is None or v != v else f"{number_vi(v, 1)}%"  # noqa: PLR0124
