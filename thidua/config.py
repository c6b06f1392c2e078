"""Load and validate the config directory: units, indicators, cycles, settings.

Everything that differs between communes lives in `config/`; this module turns it into
frozen, typed objects and refuses a broken file with one message per problem, each
naming the file, the line and the field.  Nothing is written anywhere on failure.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import yaml

from thidua import words
from thidua.calendar import WorkCalendar
from thidua.errors import ConfigError, UnknownCycle, UnknownUnit
from thidua.settings import (
    EMAIL_RE,
    INDICATOR_CODE_RE,
    MAX_TEXT,
    TAG_RE,
    Settings,
    resolve_settings,
    shown,
)

UNIT_KINDS = ("co_quan", "mat_tran_doan_the", "doanh_nghiep", "thon_xom")
INDICATOR_TYPES = ("int", "decimal", "percent", "bool")
AGGREGATES = ("sum", "last", "mean")
CYCLE_KINDS = ("ke_hoach", "nam", "so_ket", "tong_ket")
REVIEW_KINDS = ("so_ket", "tong_ket")  # the phase reviews: sơ kết, tổng kết
# Who decides a reward form: `xa`, the commune chairman within his own authority;
# `cap_tren`, a higher level the commune proposes it to (see docs/khen-thuong.md).
AUTHORITIES = {
    "xa": "Khen thưởng theo thẩm quyền của Chủ tịch UBND xã",
    "cap_tren": "Đề nghị cấp trên khen thưởng",
}
# Who a form is awarded to: code → label as the drop-down and the tallies show it.
SUBJECTS = {"tap-the": "Tập thể", "ca-nhan": "Cá nhân", "ho-gia-dinh": "Hộ gia đình"}

UNIT_COLUMNS = ("code", "name", "kind", "block", "email", "head_title", "head_email")
INDICATOR_COLUMNS = (
    "code",
    "name_vi",
    "unit_vi",
    "kinds",
    "type",
    "group",
    "aggregate",
    "min",
    "max",
    "at_most",
    "warn_at_most",
    "warn_yoy_factor",
)

UNIT_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
# warn_at_most: "20*TS01" or "TS01" (a factor times another indicator of the submission)
WARN_EXPR_RE = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*\*\s*)?([A-Z]{2}\d{2})\s*$")


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    block: str
    email: str
    head_title: str
    head_email: str
    valid_from: date | None = None
    valid_to: date | None = None
    tags: tuple[str, ...] = ()  # registry tags (settings [tags]), e.g. mot-cua

    def __reduce__(self) -> tuple:
        """Pickled as its fields in order: every isolated parsing worker receives the
        registry (133,000 units in a national cycle), and loads it 2-3x faster so."""
        return (Unit, tuple(getattr(self, name) for name in _UNIT_FIELDS))

    def valid_on(self, d: date) -> bool:
        return (self.valid_from is None or self.valid_from <= d) and (
            self.valid_to is None or d <= self.valid_to
        )


_UNIT_FIELDS = tuple(f.name for f in fields(Unit))


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str
    unit_vi: str
    kinds: tuple[str, ...]  # the unit kinds that must report it
    type: str
    group: str
    aggregate: str
    min: float | None
    max: float | None
    at_most: str | None  # code of an indicator this one must not exceed
    warn_at_most: tuple[float, str] | None  # (factor, code): warn above factor × code
    warn_yoy_factor: float | None
    tags: tuple[str, ...] = ()  # when set: only the units carrying one of them
    # Whether a unit may register a target for it: not for populations and denominators.
    target: bool = True

    def applies_to(self, kind: str, tags: Iterable[str] = ()) -> bool:
        """Whether a unit of `kind` carrying `tags` holds this figure: its kind is one of
        `kinds` and, when the indicator names tags, it carries one of them (HC01, the
        dossiers received, only at the public-service centre: tag `mot-cua`)."""
        return kind in self.kinds and (not self.tags or any(t in self.tags for t in tags))

    def applies_to_unit(self, unit: Unit) -> bool:
        return self.applies_to(unit.kind, unit.tags)

    def where(self) -> str:
        """Where it applies, in words for a config message: `co_quan tagged mot-cua`."""
        return ", ".join(self.kinds) + (f" tagged {' or '.join(self.tags)}" if self.tags else "")


@dataclass(frozen=True)
class Cycle:
    id: str
    kind: str
    title: str
    due_original: date
    due: date  # moved to a working day
    period_start: date | None
    period_end: date | None
    year: int | None
    phase: int | None
    targets: tuple[int, ...]  # ke_hoach: years whose targets units register
    reward_forms: tuple[str, ...]
    opens: date | None = None  # first day of the cycle (no reminder before it)
    # `document: required`: the unit's own document (docx/pdf: its plan, its written
    # review) is asked for beside the workbook; without it an acceptance is "có lưu ý"
    document_required: bool = False

    @property
    def document_vi(self) -> str:
        """What the asked-for document is called: "Văn bản kế hoạch", "Báo cáo sơ kết"."""
        return words.DOCUMENT.get(self.kind, words.DOCUMENT_OTHER)


@dataclass(frozen=True)
class RewardForm:
    """A reward form's rules from cycles.yaml: who decides it and through whom (the
    sentence shown next to it everywhere), and the subjects it is awarded to."""

    code: str
    name: str
    authority: str  # xa | cap_tren
    decided_by: str  # "Chủ tịch UBND tỉnh quyết định, sau thẩm định của Sở Nội vụ"
    subjects: tuple[str, ...]  # labels of SUBJECTS


@dataclass(frozen=True)
class Config:
    directory: Path
    settings: Settings
    units: tuple[Unit, ...]
    indicators: tuple[Indicator, ...]
    cycles: tuple[Cycle, ...]
    reward_forms: dict[str, str]
    calendar: WorkCalendar = field(repr=False)
    reward_authority: dict[str, str] = field(default_factory=dict)  # form → xa | cap_tren
    reward_rules: dict[str, RewardForm] = field(default_factory=dict)  # highest form first

    def form_rank(self, code: str) -> int:
        """A form's place in the order of plan III.2.b (highest first); unknown last."""
        return list(self.reward_rules).index(code) if code in self.reward_rules else 99

    @cached_property
    def units_by_code(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}

    @cached_property
    def cycles_by_id(self) -> dict[str, Cycle]:
        return {c.id: c for c in self.cycles}

    def unit(self, code: str) -> Unit:
        try:
            return self.units_by_code[code]
        except KeyError:
            raise UnknownUnit(f"no unit {code!r} in {self.directory / 'units.csv'}") from None

    def cycle(self, cycle_id: str) -> Cycle:
        try:
            return self.cycles_by_id[cycle_id]
        except KeyError:
            known = ", ".join(self.cycles_by_id)
            raise UnknownCycle(f"no cycle {cycle_id!r} (known: {known})") from None

    @cached_property
    def indicators_by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    def indicators_for(self, unit: Unit | str) -> list[Indicator]:
        """The indicators a unit reports (its kind, and its tags for the indicators that
        name tags); given a kind alone, those of a unit of that kind without tags.  Kept
        per (kind, tags): collection asks it twice for every file."""
        kind, tags = (unit, ()) if isinstance(unit, str) else (unit.kind, unit.tags)
        held = self._held_by.get((kind, tags))
        if held is None:
            held = self._held_by[kind, tags] = [
                i for i in self.indicators if i.applies_to(kind, tags)
            ]
        return list(held)

    @cached_property
    def _held_by(self) -> dict[tuple[str, tuple[str, ...]], list[Indicator]]:
        return {}

    def expected_units(self, cycle: Cycle) -> list[Unit]:
        """The units that must report in a cycle: those valid on its (moved) due date."""
        return [u for u in self.units if u.valid_on(cycle.due)]


def load_config(
    directory: Path, settings: Settings | None = None, env: Mapping[str, str] = os.environ
) -> Config:
    """Read and validate every file of a config directory, or raise ConfigError.

    `settings` are resolved from the directory and `env` unless given (a run resolves
    them once, `Workspace.from_env`)."""
    directory = Path(directory)
    settings = settings or resolve_settings(directory, env)
    problems: list[str] = []
    units = _load_units(directory / "units.csv", settings, problems)
    indicators = _load_indicators(directory / "indicators.csv", settings, problems)
    _check_rollup_codes(directory / "settings.toml", settings, indicators, problems)
    calendar = WorkCalendar(
        extra_days_off=frozenset(settings.calendar.extra_days_off),
        makeup_working_days=frozenset(settings.calendar.makeup_working_days),
    )
    reward_forms, rules, cycles = _load_cycles(directory / "cycles.yaml", calendar, problems)
    if problems:
        raise ConfigError(problems)
    return Config(
        directory=directory,
        settings=settings,
        units=tuple(units),
        indicators=tuple(indicators),
        cycles=tuple(cycles),
        reward_forms=reward_forms,
        calendar=calendar,
        reward_authority={code: r.authority for code, r in rules.items()},
        reward_rules=rules,
    )


def _check_rollup_codes(
    path: Path, settings: Settings, indicators: list[Indicator], problems: list[str]
) -> None:
    """The rollup's weight, initiatives and ratio terms must be indicators of the config."""
    codes = {i.code for i in indicators}
    rollup = settings.rollup
    named = [
        ("weight", rollup.weight),
        ("initiatives", rollup.initiatives),
        *((f"ratios.{r.key}", c) for r in rollup.ratios for c in (r.numerator, r.denominator)),
    ]
    problems.extend(
        f"{path}: [rollup] {key}: unknown indicator {code!r}"
        for key, code in named
        if indicators and code not in codes
    )
    by_code = {i.code: i for i in indicators}
    for r in rollup.ratios:
        # A ratio's population: the units of one kind (carrying one of `population_tags`
        # when given), every one of which holds both terms, so no denominator sums a
        # figure over units that do not hold it or over different populations.
        profiles: list[tuple[str, ...]] = [(t,) for t in r.population_tags] or [()]
        tagged = f" tagged {' or '.join(r.population_tags)}" if r.population_tags else ""
        for term in (r.numerator, r.denominator):
            ind = by_code.get(term)
            if ind and not all(ind.applies_to(r.population, p) for p in profiles):
                problems.append(
                    f"{path}: [rollup] ratios.{r.key}: population "
                    f"{r.population!r}{tagged}: {term} does not apply to every "
                    f"unit of it (applies to {ind.where()})"
                )


# -- units.csv ------------------------------------------------------------------------


def _read_csv(
    path: Path, required: tuple[str, ...], problems: list[str]
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a UTF-8 CSV (BOM tolerated) with their 1-based line numbers; a row that
    cannot be a record (more fields than the header, a field over `MAX_TEXT`) is a
    problem of its own line."""
    text = _read_text(path, problems, encoding="utf-8-sig")
    if text is None:
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            problems.append(f"{path}:1: header: missing column(s) {', '.join(missing)}")
            return []
        rows = []
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row:
                problems.append(f"{where}: row: more fields than the header has columns")
                continue
            long = [k for k, v in row.items() if v and len(v) > MAX_TEXT]
            problems.extend(f"{where}: {k}: longer than {MAX_TEXT} characters" for k in long)
            if not long:
                rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
        return rows
    except csv.Error as exc:
        problems.append(f"{path}:{reader.line_num}: not a CSV row: {exc}")
        return []


def _read_text(path: Path, problems: list[str], encoding: str = "utf-8") -> str | None:
    """A config file's text, or None with the problem (missing, not UTF-8)."""
    if not path.is_file():
        problems.append(f"{path}: file not found")
        return None
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        problems.append(f"{path}:{line}: not UTF-8 text ({exc.reason})")
        return None


def _load_units(path: Path, settings: Settings, problems: list[str]) -> list[Unit]:
    units: list[Unit] = []
    first_line: dict[str, int] = {}
    for line, row in _read_csv(path, UNIT_COLUMNS, problems):
        where = f"{path}:{line}"
        bad = _check_fields(row, UNIT_COLUMNS, where)
        code = row["code"]
        if code and not UNIT_CODE_RE.match(code):
            bad.append(f"{where}: code: {code!r} is not a unit code (A-Z, 0-9, '-')")
        if code in first_line:
            bad.append(
                f"{where}: code: duplicate unit code {code!r} (first on line {first_line[code]})"
            )
        first_line.setdefault(code, line)
        if row["kind"] and row["kind"] not in settings.kinds:
            bad.append(
                f"{where}: kind: unknown unit kind {row['kind']!r} "
                f"(known: {', '.join(settings.kinds)})"
            )
        if row["block"] and row["block"] not in settings.blocks:
            bad.append(
                f"{where}: block: unknown block {row['block']!r} "
                f"(known: {', '.join(settings.blocks)})"
            )
        for key in ("email", "head_email"):
            if row[key] and not EMAIL_RE.match(row[key]):
                bad.append(f"{where}: {key}: not an email address: {row[key]!r}")
        valid: dict[str, Any] = {}
        for key in ("valid_from", "valid_to"):
            value = row.get(key, "")
            valid[key] = _parse_date(value) if value else None
            if value and valid[key] is None:
                bad.append(f"{where}: {key}: not a date (YYYY-MM-DD): {shown(value)}")
        if valid["valid_from"] and valid["valid_to"] and valid["valid_to"] < valid["valid_from"]:
            bad.append(
                f"{where}: valid_to: {valid['valid_to']} is before valid_from {valid['valid_from']}"
            )
        tags = _tags(row.get("tags", ""))
        bad += _unknown_tags(tags, settings, where)
        if bad:
            problems.extend(bad)
            continue
        fields: dict[str, Any] = {k: row[k] for k in UNIT_COLUMNS}
        units.append(Unit(**fields, **valid, tags=tags))
    if not units and not problems:
        problems.append(f"{path}: no units")
    return units


# -- indicators.csv -------------------------------------------------------------------


def _load_indicators(path: Path, settings: Settings, problems: list[str]) -> list[Indicator]:
    rows = _read_csv(path, INDICATOR_COLUMNS, problems)
    codes = {row["code"] for _, row in rows}
    indicators: list[Indicator] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        where = f"{path}:{line}"
        bad = _check_fields(
            row, ("code", "name_vi", "unit_vi", "kinds", "type", "group", "aggregate"), where
        )
        code = row["code"]
        if code and not INDICATOR_CODE_RE.match(code):
            bad.append(
                f"{where}: code: {code!r} is not an indicator code (two capitals, two digits)"
            )
        if code in seen:
            bad.append(f"{where}: code: duplicate indicator {code!r} (first on line {seen[code]})")
        seen.setdefault(code, line)
        kinds = _indicator_kinds(row["kinds"], settings, where, bad)
        tags = _tags(row.get("tags", ""))
        bad += _unknown_tags(tags, settings, where)
        if row["type"] and row["type"] not in INDICATOR_TYPES:
            bad.append(f"{where}: type: {row['type']!r} not one of {', '.join(INDICATOR_TYPES)}")
        if row["aggregate"] and row["aggregate"] not in AGGREGATES:
            bad.append(
                f"{where}: aggregate: {row['aggregate']!r} not one of {', '.join(AGGREGATES)}"
            )
        numbers = _indicator_numbers(row, where, bad)
        at_most = row["at_most"] or None
        if at_most and at_most not in codes:
            bad.append(f"{where}: at_most: unknown indicator {at_most!r}")
        target = (row.get("target") or "yes").strip()
        if target not in ("yes", "no"):
            bad.append(f"{where}: target: {shown(target)} is not yes or no")
        warn_at_most = _warn_at_most(row["warn_at_most"], codes, where, bad)
        if bad:
            problems.extend(bad)
            continue
        indicators.append(
            Indicator(
                code=code,
                name_vi=row["name_vi"],
                unit_vi=row["unit_vi"],
                kinds=kinds,
                type=row["type"],
                group=row["group"],
                aggregate=row["aggregate"],
                min=numbers["min"],
                max=numbers["max"],
                at_most=at_most,
                warn_at_most=warn_at_most,
                warn_yoy_factor=numbers["warn_yoy_factor"],
                tags=tags,
                target=target == "yes",
            )
        )
    return indicators


def _indicator_kinds(text: str, settings: Settings, where: str, bad: list[str]) -> tuple[str, ...]:
    """The unit kinds an indicator applies to: `all` or a `;` list of known kinds."""
    if text == "all":
        return tuple(settings.kinds)
    kinds = tuple(k.strip() for k in text.split(";") if k.strip())
    bad += [
        f"{where}: kinds: unknown unit kind {k!r} (known: {', '.join(settings.kinds)})"
        for k in kinds
        if k not in settings.kinds
    ]
    return kinds


def _indicator_numbers(row: dict[str, str], where: str, bad: list[str]) -> dict[str, float | None]:
    """min, max and warn_yoy_factor of an indicators.csv row; None where empty."""
    numbers: dict[str, float | None] = {}
    for key in ("min", "max", "warn_yoy_factor"):
        numbers[key] = _parse_number(row[key]) if row[key] else None
        if row[key] and numbers[key] is None:
            bad.append(f"{where}: {key}: not a number: {shown(row[key])}")
    low, high = numbers["min"], numbers["max"]
    if low is not None and high is not None and low > high:
        bad.append(f"{where}: max: {high:g} is below min {low:g}")
    return numbers


def _warn_at_most(
    text: str, codes: set[str], where: str, bad: list[str]
) -> tuple[float, str] | None:
    """warn_at_most as (factor, code): FACTOR*CODE or CODE of a known indicator."""
    if not text:
        return None
    m = WARN_EXPR_RE.match(text)
    if not m or m.group(2) not in codes:
        bad.append(
            f"{where}: warn_at_most: cannot parse {text!r} "
            "(expected FACTOR*CODE or CODE of a known indicator)"
        )
        return None
    return (float(m.group(1) or 1), m.group(2))


# -- cycles.yaml ----------------------------------------------------------------------


def _reward_forms(
    path: Path, raw: Any, deciders: Any, problems: list[str]
) -> tuple[dict[str, str], dict[str, RewardForm]]:
    """`reward_forms`: code → {name, authority, decider, subjects}, checked against
    `deciders` (code → sentence) and SUBJECTS."""
    deciders = deciders if isinstance(deciders, dict) else {}
    names, rules = {}, {}
    for code, spec in (raw or {}).items():
        spec = spec if isinstance(spec, dict) else {"name": spec, "authority": "cap_tren"}
        at = f"{path}: reward_forms.{code}"
        names[str(code)] = name = str(spec.get("name") or "")
        level = str(spec.get("authority") or "")
        decider = str(spec.get("decider") or ("chu-tich-xa" if level == "xa" else ""))
        subjects = spec.get("subjects") or list(SUBJECTS)
        if not name:
            problems.append(f"{at}: name: empty")
        if level not in AUTHORITIES:
            problems.append(f"{at}: authority: {level!r} not one of {', '.join(AUTHORITIES)}")
        if decider and decider not in deciders:
            problems.append(f"{at}: decider: {decider!r} not one of `deciders`")
        bad = [s for s in subjects if s not in SUBJECTS] if isinstance(subjects, list) else [0]
        if bad:
            problems.append(f"{at}: subjects: expected a list of {', '.join(SUBJECTS)}")
            subjects = []
        sentence = str(deciders.get(decider) or AUTHORITIES.get(level, ""))
        labels = tuple(SUBJECTS[s] for s in subjects)
        rules[str(code)] = RewardForm(str(code), name, level, sentence, labels)
    return names, rules


def _load_cycles(
    path: Path, calendar: WorkCalendar, problems: list[str]
) -> tuple[dict[str, str], dict[str, RewardForm], list[Cycle]]:
    text = _read_text(path, problems)
    if text is None:
        return {}, {}, []
    try:
        raw = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problems.append(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return {}, {}, []
    if not isinstance(raw, dict):
        problems.append(f"{path}:1: expected a mapping with `reward_forms` and `cycles`")
        return {}, {}, []
    nodes = {k.value: v for k, v in getattr(root, "value", [])}

    def line(node: yaml.Node | None, key: str = "") -> str:
        return f"{path}:{_line_of(node, key) if node is not None else 1}"

    forms_raw = raw.get("reward_forms") or {}
    if not isinstance(forms_raw, dict):
        problems.append(
            f"{line(nodes.get('reward_forms'))}: reward_forms: expected a "
            "mapping of code: Vietnamese name"
        )
        forms_raw = {}
    reward_forms, authority = _reward_forms(path, forms_raw, raw.get("deciders"), problems)
    entries = raw.get("cycles") or []
    cycle_nodes = nodes.get("cycles")
    if not isinstance(entries, list):
        problems.append(f"{line(cycle_nodes)}: cycles: expected a list of cycles")
        return reward_forms, authority, []
    node_list = list(cycle_nodes.value) if isinstance(cycle_nodes, yaml.SequenceNode) else []
    cycles: list[Cycle] = []
    seen: set[str] = set()
    for entry, node in zip(entries, node_list, strict=False):
        bad: list[str] = []
        cycle = _cycle(entry, node, partial(line, node), calendar, reward_forms, seen, bad)
        problems.extend(bad)
        if cycle is not None and not bad:
            cycles.append(cycle)
    if not cycles and not problems:
        problems.append(f"{path}: no cycles")
    return reward_forms, authority, cycles


def _cycle(
    entry: Any,
    node: yaml.Node,
    at: Callable[[str], str],
    calendar: WorkCalendar,
    reward_forms: dict[str, str],
    seen: set[str],
    bad: list[str],
) -> Cycle | None:
    """One cycle of cycles.yaml, or None with its problems in `bad`."""
    if not isinstance(entry, dict):
        bad.append(f"{at('')}: cycle: expected a mapping")
        return None
    bad += [
        f"{at(key)}: {key}: missing" for key in ("id", "kind", "title", "due") if not entry.get(key)
    ]
    for key in ("id", "kind", "title"):
        if entry.get(key) is not None and not isinstance(entry[key], str | int):
            bad.append(f"{at(key)}: {key}: expected text")
        elif len(str(entry.get(key, ""))) > MAX_TEXT:
            bad.append(f"{at(key)}: {key}: longer than {MAX_TEXT} characters")
    cycle_id = str(entry.get("id", ""))
    if cycle_id in seen:
        bad.append(f"{at('id')}: id: duplicate cycle {cycle_id!r}")
    seen.add(cycle_id)
    kind = entry.get("kind")
    if kind and (not isinstance(kind, str) or kind not in CYCLE_KINDS):
        bad.append(f"{at('kind')}: kind: {shown(kind)} not one of {', '.join(CYCLE_KINDS)}")
    due, start, end, opens = _cycle_dates(entry, at, kind, bad)
    numbers, targets, forms = _cycle_numbers(entry, at, reward_forms, bad)
    document = entry.get("document")
    if document not in (None, "required"):
        bad.append(
            f"{at('document')}: document: expected `required` or nothing, got {shown(document)}"
        )
    if bad or due is None:  # a missing due date is among the problems
        return None
    return Cycle(
        id=cycle_id,
        kind=str(kind),
        title=str(entry["title"]),
        due_original=due,
        due=calendar.move_due_date(due),
        period_start=start,
        period_end=end,
        year=numbers["year"],
        phase=numbers["phase"],
        targets=tuple(targets),
        reward_forms=tuple(str(f) for f in forms),
        opens=opens,
        document_required=document == "required",
    )


def _cycle_dates(
    entry: dict, at: Callable[[str], str], kind: Any, bad: list[str]
) -> tuple[date | None, date | None, date | None, date | None]:
    """A cycle's due date, period (start, end) and opening date, checked against each other."""
    due = _parse_date(entry.get("due"))
    if entry.get("due") and due is None:
        bad.append(f"{at('due')}: due: not a date (YYYY-MM-DD): {shown(entry['due'])}")
    period = entry.get("period")
    start = end = None
    if isinstance(period, list) and len(period) == 2:
        start, end = _parse_date(period[0]), _parse_date(period[1])
    if (kind != "ke_hoach" or period is not None) and (start is None or end is None or start > end):
        bad.append(
            f"{at('period')}: period: expected [start, end] dates (YYYY-MM-DD), start before end"
        )
    elif end and due and end >= due:
        bad.append(
            f"{at('period')}: period: the data cut-off {end} must come before the due date {due}"
        )
    opens = _parse_date(entry.get("opens")) if entry.get("opens") else None
    if entry.get("opens") and opens is None:
        bad.append(f"{at('opens')}: opens: not a date (YYYY-MM-DD): {shown(entry['opens'])}")
    return due, start, end, opens


def _cycle_numbers(
    entry: dict, at: Callable[[str], str], reward_forms: dict[str, str], bad: list[str]
) -> tuple[dict[str, Any], list[int], list[Any]]:
    """A cycle's year and phase, target years and reward forms, checked."""
    numbers: dict[str, Any] = {}
    for key in ("year", "phase"):
        value = entry.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            bad.append(f"{at(key)}: {key}: expected a whole number, got {shown(value)}")
        numbers[key] = value
    targets = entry.get("targets") or []
    if not isinstance(targets, list) or not all(
        isinstance(y, int) and not isinstance(y, bool) for y in targets
    ):
        bad.append(f"{at('targets')}: targets: expected a list of years, e.g. [2027, 2030]")
        targets = []
    forms = entry.get("reward_forms") or []
    if not isinstance(forms, list):
        bad.append(f"{at('reward_forms')}: reward_forms: expected a list of form codes")
        forms = []
    bad += [
        f"{at('reward_forms')}: reward_forms: unknown form {shown(f)}"
        for f in forms
        if str(f) not in reward_forms
    ]
    return numbers, targets, forms


def _line_of(node: yaml.Node, key: str) -> int:
    """1-based line of `key` in a YAML mapping node, else the node's own line."""
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if k.value == key:
                return k.start_mark.line + 1
    return node.start_mark.line + 1


# -- helpers --------------------------------------------------------------------------


def _tags(text: str) -> tuple[str, ...]:
    """`mot-cua;x` → ('mot-cua', 'x'): sorted, without repeats (a unit's profile)."""
    return tuple(sorted({t.strip() for t in (text or "").split(";") if t.strip()}))


def _unknown_tags(tags: tuple[str, ...], settings: Settings, where: str) -> list[str]:
    """A tag must be one of settings.toml [tags] (a typo would silently match no unit)."""
    return [
        f"{where}: tags: unknown tag {t!r} (known: {', '.join(settings.tags) or 'none'})"
        if TAG_RE.match(t)
        else f"{where}: tags: {t!r} is not a tag (a-z, 0-9, '-')"
        for t in tags
        if t not in settings.tags or not TAG_RE.match(t)
    ]


def _check_fields(row: dict[str, str], required: tuple[str, ...], where: str) -> list[str]:
    return [f"{where}: {key}: empty" for key in required if not row.get(key)]


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _parse_number(text: str) -> float | None:
    """A finite number, or None."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
