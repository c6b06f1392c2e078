"""Checks that need the registry rather than the data: who sent it, for which cycle,
whether rows and sheets are all there, reward forms, lateness, and the outcome.

Value rules (bounds, cross-field, year-over-year...) run in one GX batch
(`expectations/`); both kinds report `Problem`s, stored and mailed the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time

from thidua import layout
from thidua.calendar import format_date_vi, format_day_vi, format_time_vi
from thidua.config import SUBJECTS, Config, Cycle, Indicator, Unit
from thidua.intake import Incoming
from thidua.labels import match_label, read_day
from thidua.parse import CSV_SHEET, Parsed
from thidua.rules import ERROR, ROW_ERRORS, Problem, fmt, plain_reason, problem

ACCEPTED, WITH_WARNINGS, REJECTED, UNREADABLE = (
    "accepted",
    "accepted_with_warnings",
    "rejected",
    "unreadable",
)


@dataclass
class Examined:
    """A submission on its way to the warehouse: what was read and what was found."""

    incoming: Incoming
    parsed: Parsed | None  # None: unreadable
    unit: Unit | None = None
    cycle: Cycle | None = None
    late: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.parsed is None:
            return UNREADABLE
        if any(p.severity == ERROR and p.rule_id not in ROW_ERRORS for p in self.problems):
            return REJECTED
        return WITH_WARNINGS if self.problems else ACCEPTED

    def count(self, severity: str) -> int:
        return sum(p.severity == severity for p in self.problems)


def deadline(cfg: Config, cycle: Cycle) -> datetime:
    """End of the (moved) due date, 23:59:59 local time: on time means not after it."""
    return datetime.combine(cycle.due, time(23, 59, 59), cfg.settings.calendar.tz)


YEAR_DAYS = 365.25


def period_scales(cfg: Config) -> dict[str, tuple[float, float]]:
    """Per cycle with a period: (the years it covers, in whole months, which scale a flow's yearly
    `warn_at_most` limit; its length over the previous annual cycle's, which scales last
    year's flow before the year-over-year comparison, NaN when beyond
    `[checks] yoy_max_length_ratio`).  A cycle without a period (the plan) is (1, 1)."""
    days = {
        c.id: (c.period_end - c.period_start).days + 1
        for c in cfg.cycles
        if c.period_end and c.period_start
    }
    annual = {c.year: c.id for c in cfg.cycles if c.kind == "nam"}
    limit = cfg.settings.checks.yoy_max_length_ratio
    out = {}
    for c in cfg.cycles:
        if c.id not in days or c.year is None:
            out[c.id] = (1.0, 1.0)
            continue
        prev = annual.get(c.year - 1) if c.kind == "nam" else None
        ratio = days[c.id] / days[prev] if prev in days else 1.0
        months = round(12 * days[c.id] / YEAR_DAYS)  # whole months: a full year is 12
        out[c.id] = (max(months, 1) / 12, ratio if 1 / limit <= ratio <= limit else math.nan)
    return out


def cycle_open(cfg: Config, cycle: Cycle, received: datetime) -> bool:
    """A cycle takes submissions from its `mo` reminder day on, and never closes (late
    ones are taken and flagged)."""
    opens = cfg.calendar.opening_day(cycle.due, cycle.opens)
    return received.astimezone(cfg.settings.calendar.tz).date() >= opens


def check_registry(cfg: Config, ex: Examined) -> None:
    """Fill unit, cycle and late, and append the problems found without the GX suite."""
    parsed, inc = ex.parsed, ex.incoming
    if parsed is None:  # unreadable: nothing to check
        return
    info = parsed.info
    if parsed.info_sheet:
        for key, label in layout.INFO_KEYS:
            if key in layout.REQUIRED_INFO_KEYS and key not in info:
                ex.problems.append(
                    problem("missing_key", sheet=layout.INFO_SHEET, value=key, key=key, label=label)
                )
    code, code_cell = info.get("ma_don_vi", (None, None))
    if "ma_don_vi" in info:
        ex.unit = cfg.units_by_code.get((code or "").strip().upper())
        if ex.unit is None:
            ex.problems.append(problem("unknown_unit", code_cell, code or ""))
        _name_other_units(cfg, ex, code or "")
    if ex.unit and inc.sender:
        check_sender(cfg, ex)
    cycle_id, cycle_cell = info.get("ky_bao_cao", (None, None))
    if "ky_bao_cao" in info:
        ex.cycle = cfg.cycles_by_id.get((cycle_id or "").strip().lower())
        if ex.cycle is None:
            ex.problems.append(problem("unknown_cycle", cycle_cell, cycle_id or ""))
        elif not cycle_open(cfg, ex.cycle, inc.received_at):
            opens = cfg.calendar.opening_day(ex.cycle.due, ex.cycle.opens)
            ex.problems.append(
                problem("cycle_not_open", cycle_cell, cycle_id or "", opens=format_day_vi(opens))
            )
            ex.cycle = None
    _read_percents(cfg, ex)
    if ex.cycle:
        _check_rows(cfg, ex)
        _check_narratives(cfg, ex)
        _check_reward_forms(cfg, ex)
        _check_initiative_dates(ex)
        ex.late = inc.received_at > deadline(cfg, ex.cycle)
        if ex.late:
            local = inc.received_at.astimezone(cfg.settings.calendar.tz)
            ex.problems.append(
                problem(
                    "late",
                    value=None,
                    due=format_day_vi(ex.cycle.due),
                    received=format_time_vi(local),
                )
            )


SENDER_RULES = ("sender_mismatch", "sender_unauthenticated")  # the mail is not the unit's
# Refusals of the envelope (who sent it, when), not of the file: the same file sent again
# under another envelope is examined again (`pipeline.collect.take_in`)
ENVELOPE_RULES = (*SENDER_RULES, "other_unit", "cycle_not_open")


def registered_senders(cfg: Config) -> dict[str, Unit]:
    """Registered address (email, head_email; lower-cased) → its unit."""
    out: dict[str, Unit] = {}
    for u in cfg.units:
        for address in (u.head_email, u.email):
            out[address.lower()] = u
    return out


def check_sender(cfg: Config, ex: Examined) -> None:
    """A mailed submission counts for its unit only when it came from the unit's
    registered `email` or `head_email` and, when the commune's mail server is configured
    (`THIDUA_IMAP_AUTHSERV_ID`), that server vouched for the sender (dkim or spf pass).
    A workbook of another unit than the verified sender's says so."""
    inc, unit = ex.incoming, ex.unit
    if unit is None or inc.sender is None:
        return
    if inc.auth is not None and inc.auth != "pass":
        ex.problems.append(problem("sender_unauthenticated", value=inc.sender, auth=inc.auth))
        return
    if inc.sender in (unit.email.lower(), unit.head_email.lower()):
        return
    other = registered_senders(cfg).get(inc.sender)
    if other is not None:
        ex.problems.append(
            problem("other_unit", value=unit.code, sender_unit=other.code, sender_name=other.name)
        )
    else:
        ex.problems.append(problem("sender_mismatch", value=inc.sender, email=unit.email))


def _name_other_units(cfg: Config, ex: Examined, code: str) -> None:
    """A CSV row naming another unit was reported by the parser as an unknown unit
    (it only knows the code differs from the first row's); when the code is a
    registered unit's, say that instead: the registry does know it."""
    ex.problems = [
        problem("csv_other_unit", q.cell, q.value, unit=code)
        if q.rule_id == "unknown_unit" and (q.value or "").strip().upper() in cfg.units_by_code
        else q
        for q in ex.problems
    ]


def _check_rows(cfg: Config, ex: Examined) -> None:
    parsed, cycle = ex.parsed, ex.cycle
    if parsed is None or cycle is None:
        return
    sheet = CSV_SHEET if parsed.file_format == "csv" else layout.INDICATOR_SHEET
    if any(p.rule_id == "missing_sheet" and p.sheet == sheet for p in ex.problems):
        return
    for col in layout.value_columns(cycle):
        if col.key not in parsed.measures:
            ex.problems.append(
                problem("missing_column", sheet=sheet, value=col.header, header=col.header)
            )
    known = {i.code for i in cfg.indicators}
    seen = set()
    for v in parsed.values:
        if v.code not in known and v.code not in seen:
            ex.problems.append(problem("unknown_indicator", v.cell, v.code))
        seen.add(v.code)
    if ex.unit:
        _drop_not_applicable(cfg, ex, known)
        ex.problems += [
            problem("missing_indicator", sheet=sheet, value=i.code, code=i.code, name=i.name_vi)
            for i in cfg.indicators_for(ex.unit)
            if i.code not in seen
        ]


def holders_vi(cfg: Config, ind: Indicator) -> str:
    """Who holds an indicator, in words: its tags' names, else its kinds' names."""
    names = cfg.settings.tags if ind.tags else cfg.settings.kinds
    return "; ".join(names.get(x, x) for x in (ind.tags or ind.kinds))


def _drop_not_applicable(cfg: Config, ex: Examined, known: set[str]) -> None:
    """Values of a known indicator that does not apply to the unit (HC01 from a school:
    dossiers are received at the public-service centre) are a warning, once per
    indicator, on its first filled cell; they are left out of the values, so neither the
    checks nor the rollup count them, and a problem read in their cells goes with them."""
    parsed, unit = ex.parsed, ex.unit
    if parsed is None or unit is None:
        return
    applies = {i.code for i in cfg.indicators_for(unit)}
    foreign = [v for v in parsed.values if v.code in known and v.code not in applies]
    if not foreign:
        return
    by_code = cfg.indicators_by_code
    cells = {v.cell for v in foreign}
    ex.problems = [q for q in ex.problems if q.cell not in cells]
    warned: set[str] = set()
    for v in foreign:
        if v.code not in warned and (v.value is not None or v.raw):
            warned.add(v.code)
            ind = by_code[v.code]
            ex.problems.append(
                problem(
                    "not_applicable",
                    v.cell,
                    v.raw or v.value,
                    code=v.code,
                    name=ind.name_vi,
                    holders=holders_vi(cfg, ind),
                )
            )
    parsed.values = [v for v in parsed.values if v.code not in known or v.code in applies]


def _check_narratives(cfg: Config, ex: Examined) -> None:
    """The narrative fields of a report (ThongTin: the annual tom_tat, mo_hinh, kho_khan,
    de_xuat; a review's đánh giá chung, bài học, phương hướng beside them) feed the
    sections of the commune's report (`layout.narrative_sections`): one left empty, or longer
    than `[checks] narrative_max_chars`, is a warning naming the field and its cell (the
    plan cycle and the CSV form carry none)."""
    parsed, cycle = ex.parsed, ex.cycle
    if parsed is None or cycle is None:
        return
    if cycle.kind == "ke_hoach" or parsed.file_format != "xlsx" or not parsed.info_sheet:
        return
    limit = cfg.settings.checks.narrative_max_chars
    labels = dict(layout.info_keys(cycle))
    for key, section in layout.narrative_sections(cycle).items():
        text, cell = parsed.info.get(key, (None, None))
        fields = {
            "label": labels[key],
            "section": section,
            "limit": fmt(limit),
        }
        if not text or not text.strip():
            ex.problems.append(
                problem("narrative_empty", cell, None, sheet=layout.INFO_SHEET, **fields)
            )
        elif len(text) > limit:
            ex.problems.append(
                problem(
                    "narrative_too_long",
                    cell,
                    None,
                    sheet=layout.INFO_SHEET,
                    length=fmt(len(text)),
                    **fields,
                )
            )


@dataclass(frozen=True)
class Narrative:
    """A narrative a unit wrote in a cycle, as the warehouse holds it (the unit's version
    that counts)."""

    unit_code: str
    unit_name: str
    cycle_id: str
    key: str
    text: str


def flag_copied_narratives(examined: list[Examined], known: list[Narrative]) -> None:
    """A narrative field equal (spacing and case aside) to another unit's text of the
    same cycle already in the warehouse (`known`) is a content warning naming the field,
    its cell and the other unit: a copied text says nothing of this unit, and the report
    writes it once.  Files of one batch are not compared with each other (neither is
    in yet); a refused file is not flagged (run after the GX run, the outcome known)."""
    seen: dict[tuple[str, str, str], list[Narrative]] = {}
    for n in known:
        seen.setdefault((n.cycle_id, n.key, layout.same_text(n.text)), []).append(n)
    if not seen:  # the cycle's first texts: nothing to compare with
        return
    for ex in examined:
        parsed, cycle, unit = ex.parsed, ex.cycle, ex.unit
        if (
            parsed is None
            or cycle is None
            or unit is None
            or ex.outcome not in (ACCEPTED, WITH_WARNINGS)
        ):
            continue
        for key in layout.narrative_sections(cycle):
            text, cell = parsed.info.get(key, (None, None))
            if not text:
                continue
            others = seen.get((cycle.id, key, layout.same_text(text)), [])
            other = next((n for n in others if n.unit_code != unit.code), None)
            if other is not None and layout.says_something(text):
                ex.problems.append(
                    problem(
                        "narrative_copied",
                        cell,
                        None,
                        sheet=layout.INFO_SHEET,
                        label=dict(layout.info_keys(cycle))[key],
                        other=f"{other.unit_name} ({other.unit_code})",
                    )
                )


def _check_reward_forms(cfg: Config, ex: Examined) -> None:
    """Each proposal's subject (tập thể, cá nhân, hộ gia đình) and form, matched by code
    or label (`labels.match_label`); a form not allowed in the cycle, or not awarded to
    that subject (Cờ thi đua to a cá nhân), is an error on its row alone.  The row is
    kept, marked `refused`, for the officer to see; it counts nowhere."""
    parsed, cycle = ex.parsed, ex.cycle
    if parsed is None or cycle is None:
        return
    choices = {code: cfg.reward_forms[code] for code in cycle.reward_forms}
    names = "; ".join(choices.values()) or "(kỳ này không đề nghị khen thưởng)"
    for row in parsed.proposals:
        row["refused"] = None
        line = row["cell"].rsplit("!", 1)[-1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        form = (row.get("reward_form") or "").strip()
        code = match_label(form, choices)
        subject = match_label(row.get("subject_type"), {s: s for s in SUBJECTS.values()})
        if code is None:
            found = problem("reward_form", row["cells"]["reward_form"], form, allowed=names)
        elif subject is None:
            found = problem(
                "subject_type", row["cells"]["subject_type"], row.get("subject_type"), line=line
            )
        elif subject not in cfg.reward_rules[code].subjects:
            found = problem(
                "reward_subject",
                row["cells"]["subject_type"],
                subject,
                line=line,
                form=choices[code],
                allowed=", ".join(cfg.reward_rules[code].subjects).lower(),
                subject=subject.lower(),
                name=row.get("name") or "",
            )
        else:
            row["reward_form"], row["subject_type"] = code, subject
            continue
        ex.problems.append(found)
        row["refused"] = f"Đề nghị không hợp lệ: {found.message_vi}"


def _check_initiative_dates(ex: Examined) -> None:
    """An initiative applied outside the cycle's period (or a date that is not one) is
    a warning: the unit may have a reason, the officer checks."""
    parsed, cycle = ex.parsed, ex.cycle
    if parsed is None or cycle is None:
        return
    start, end = cycle.period_start, cycle.period_end
    for row in parsed.initiatives:
        text = row.get("applied_on")
        if not text:
            continue
        day = read_day(text)
        cell = row["cells"].get("applied_on")
        title = row.get("title") or f"dòng {row['row_no']}"
        if day is None:
            ex.problems.append(problem("initiative_date_text", cell, text, title=title))
        elif start and end and not start <= day <= end:
            ex.problems.append(
                problem(
                    "initiative_date",
                    cell,
                    format_date_vi(day),
                    title=title,
                    start=format_date_vi(start),
                    end=format_date_vi(end),
                )
            )


def _read_percents(cfg: Config, ex: Examined) -> None:
    """Percent indicators hold 0-100.  A number in (0, 1) is a fraction, as Excel stores
    "85%" (0.85): read as 85, silently.  Exactly 1 could be 100 % (Excel's "100%") or
    1 %: read as 100, with a warning.  "85%" / "85 %" typed as text are 85 (vnnumber).
    A % sign on an indicator that is not a percent is an error."""
    if ex.parsed is None:
        return
    types = cfg.indicators_by_code
    for v in ex.parsed.values:
        ind = types.get(v.code)
        if ind is None:
            continue
        typed_percent = bool(v.raw and v.raw.rstrip().endswith("%"))
        if ind.type != "percent":
            if typed_percent:
                v.value = None
                ex.problems.append(
                    problem("percent_sign", v.cell, v.raw, code=v.code, unit=ind.unit_vi)
                )
            continue
        if v.value is None or typed_percent or not 0 < v.value <= 1:
            continue
        shown = fmt(v.value)
        v.value = round(v.value * 100, 9)
        if shown == "1":
            ex.problems.append(
                problem("percent_ambiguous", v.cell, v.value / 100, code=v.code, read=fmt(v.value))
            )


def examine_unreadable(inc: Incoming, reason: str) -> Examined:
    return Examined(inc, None, problems=[problem("unreadable", reason=plain_reason(reason))])
