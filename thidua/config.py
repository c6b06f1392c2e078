"""Load and validate the config directory: units, indicators, cycles, settings.

Everything that differs between communes lives in `config/`; this module turns it into
frozen, typed objects and refuses a broken file with one message per problem, each
naming the file, the line and the field.  Nothing is written anywhere on failure.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from thidua.calendar import WorkCalendar
from thidua.errors import ConfigError, UnknownCycle, UnknownUnit

UNIT_KINDS = ("co_quan", "mat_tran_doan_the", "doanh_nghiep", "thon_xom")
INDICATOR_TYPES = ("int", "decimal", "percent", "bool")
AGGREGATES = ("sum", "last", "mean")
CYCLE_KINDS = ("ke_hoach", "nam", "so_ket", "tong_ket")

UNIT_COLUMNS = ("code", "name", "kind", "block", "email", "head_title", "head_email")
INDICATOR_COLUMNS = ("code", "name_vi", "unit_vi", "kinds", "type", "group", "aggregate",
                     "min", "max", "at_most", "warn_at_most", "warn_yoy_factor")

EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z0-9-]+$")
UNIT_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
INDICATOR_CODE_RE = re.compile(r"^[A-Z]{2}\d{2}$")
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

    def valid_on(self, d: date) -> bool:
        return (self.valid_from is None or self.valid_from <= d) and (
            self.valid_to is None or d <= self.valid_to)


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str
    unit_vi: str
    kinds: tuple[str, ...]          # the unit kinds that must report it
    type: str
    group: str
    aggregate: str
    min: float | None
    max: float | None
    at_most: str | None             # code of an indicator this one must not exceed
    warn_at_most: tuple[float, str] | None   # (factor, code): warn above factor × code
    warn_yoy_factor: float | None

    def applies_to(self, kind: str) -> bool:
        return kind in self.kinds


@dataclass(frozen=True)
class Cycle:
    id: str
    kind: str
    title: str
    due_original: date
    due: date                       # moved to a working day
    period_start: date | None
    period_end: date | None
    year: int | None
    phase: int | None
    targets: tuple[int, ...]        # ke_hoach: years whose targets units register
    reward_forms: tuple[str, ...]
    opens: date | None = None       # first day of the cycle (no reminder before it)


@dataclass(frozen=True)
class Settings:
    commune: dict[str, str]
    sender: dict[str, str]
    admin: dict[str, str]
    province_office: dict[str, str]
    signer: dict[str, str]
    calendar: dict[str, Any]
    checks: dict[str, float]
    scoring: dict[str, float]
    kinds: dict[str, str]
    blocks: dict[str, str]


@dataclass(frozen=True)
class Config:
    directory: Path
    settings: Settings
    units: tuple[Unit, ...]
    indicators: tuple[Indicator, ...]
    cycles: tuple[Cycle, ...]
    reward_forms: dict[str, str]
    calendar: WorkCalendar = field(repr=False)

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

    def indicators_for(self, kind: str) -> list[Indicator]:
        return [i for i in self.indicators if i.applies_to(kind)]

    def expected_units(self, cycle: Cycle) -> list[Unit]:
        """The units that must report in a cycle: those valid on its (moved) due date."""
        return [u for u in self.units if u.valid_on(cycle.due)]


def load_config(directory: Path) -> Config:
    """Read and validate every file of a config directory, or raise ConfigError."""
    directory = Path(directory)
    problems: list[str] = []
    settings = _load_settings(directory / "settings.toml", problems)
    if settings is None:
        raise ConfigError(problems)
    units = _load_units(directory / "units.csv", settings, problems)
    indicators = _load_indicators(directory / "indicators.csv", settings, problems)
    calendar = _make_calendar(settings, directory / "settings.toml", problems)
    reward_forms, cycles = _load_cycles(directory / "cycles.yaml", calendar, problems)
    if problems:
        raise ConfigError(problems)
    return Config(directory=directory, settings=settings, units=tuple(units),
                  indicators=tuple(indicators), cycles=tuple(cycles),
                  reward_forms=reward_forms, calendar=calendar)


# -- settings.toml -------------------------------------------------------------------

_SETTINGS_SECTIONS = {
    "commune": ("name", "authority", "authority_short", "province", "plan_ref"),
    "sender": ("name", "email"),
    "admin": ("name", "email"),
    "province_office": ("name", "email"),
    "signer": ("on_behalf", "capacity", "title", "name"),
    "calendar": ("timezone", "send_hour"),
    "checks": ("yoy_factor", "max_file_mb", "max_unpacked_mb", "max_zip_ratio"),
    "scoring": ("on_time", "late", "missing", "quality", "quality_with_warnings",
                "performance"),
    "kinds": UNIT_KINDS,
    "blocks": (),
}


def _load_settings(path: Path, problems: list[str]) -> Settings | None:
    if not path.is_file():
        problems.append(f"{path}: file not found")
        return None
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: {exc}")
        return None
    for section, keys in _SETTINGS_SECTIONS.items():
        table = raw.get(section)
        if not isinstance(table, dict) or (section == "blocks" and not table):
            problems.append(f"{path}: [{section}]: missing section")
            continue
        problems.extend(f"{path}: [{section}] {key}: missing" for key in keys if key not in table)
        for key in ("email",):
            if key in table and not EMAIL_RE.match(str(table[key])):
                problems.append(f"{path}: [{section}] {key}: not an email address: "
                                f"{table[key]!r}")
    if problems:
        return None
    return Settings(**{section: dict(raw[section]) for section in _SETTINGS_SECTIONS})


def _make_calendar(settings: Settings, path: Path, problems: list[str]) -> WorkCalendar:
    def dates(key: str) -> frozenset[date]:
        out = set()
        for value in settings.calendar.get(key, []):
            parsed = _parse_date(value)
            if parsed is None:
                problems.append(f"{path}: [calendar] {key}: not a date (YYYY-MM-DD): {value!r}")
            else:
                out.add(parsed)
        return frozenset(out)

    return WorkCalendar(extra_days_off=dates("extra_days_off"),
                        makeup_working_days=dates("makeup_working_days"))


# -- units.csv ------------------------------------------------------------------------

def _read_csv(path: Path, required: tuple[str, ...], problems: list[str]
              ) -> list[tuple[int, dict[str, str]]]:
    """Rows of a UTF-8 CSV (BOM tolerated) with their 1-based line numbers."""
    if not path.is_file():
        problems.append(f"{path}: file not found")
        return []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text ({exc.reason})")
        return []
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(f"{path}:1: header: missing column(s) {', '.join(missing)}")
        return []
    return [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k})
            for row in reader]


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
            bad.append(f"{where}: code: duplicate unit code {code!r} "
                       f"(first on line {first_line[code]})")
        first_line.setdefault(code, line)
        if row["kind"] and row["kind"] not in settings.kinds:
            bad.append(f"{where}: kind: unknown unit kind {row['kind']!r} "
                       f"(known: {', '.join(settings.kinds)})")
        if row["block"] and row["block"] not in settings.blocks:
            bad.append(f"{where}: block: unknown block {row['block']!r} "
                       f"(known: {', '.join(settings.blocks)})")
        for key in ("email", "head_email"):
            if row[key] and not EMAIL_RE.match(row[key]):
                bad.append(f"{where}: {key}: not an email address: {row[key]!r}")
        valid = {}
        for key in ("valid_from", "valid_to"):
            value = row.get(key, "")
            valid[key] = _parse_date(value) if value else None
            if value and valid[key] is None:
                bad.append(f"{where}: {key}: not a date (YYYY-MM-DD): {value!r}")
        if bad:
            problems.extend(bad)
            continue
        units.append(Unit(**{k: row[k] for k in UNIT_COLUMNS}, **valid))
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
        bad = _check_fields(row, ("code", "name_vi", "unit_vi", "kinds", "type", "group",
                                  "aggregate"), where)
        code = row["code"]
        if code and not INDICATOR_CODE_RE.match(code):
            bad.append(f"{where}: code: {code!r} is not an indicator code (two capitals, "
                       "two digits)")
        if code in seen:
            bad.append(f"{where}: code: duplicate indicator {code!r} (first on line "
                       f"{seen[code]})")
        seen.setdefault(code, line)
        kinds = tuple(settings.kinds) if row["kinds"] == "all" else tuple(
            k.strip() for k in row["kinds"].split(";") if k.strip())
        bad += [f"{where}: kinds: unknown unit kind {k!r}" for k in kinds
                if k not in settings.kinds]
        if row["type"] and row["type"] not in INDICATOR_TYPES:
            bad.append(f"{where}: type: {row['type']!r} not one of {', '.join(INDICATOR_TYPES)}")
        if row["aggregate"] and row["aggregate"] not in AGGREGATES:
            bad.append(f"{where}: aggregate: {row['aggregate']!r} not one of "
                       f"{', '.join(AGGREGATES)}")
        numbers = {}
        for key in ("min", "max", "warn_yoy_factor"):
            numbers[key] = _parse_number(row[key]) if row[key] else None
            if row[key] and numbers[key] is None:
                bad.append(f"{where}: {key}: not a number: {row[key]!r}")
        at_most = row["at_most"] or None
        if at_most and at_most not in codes:
            bad.append(f"{where}: at_most: unknown indicator {at_most!r}")
        warn_at_most = None
        if row["warn_at_most"]:
            m = WARN_EXPR_RE.match(row["warn_at_most"])
            if not m or m.group(2) not in codes:
                bad.append(f"{where}: warn_at_most: cannot parse {row['warn_at_most']!r} "
                           "(expected FACTOR*CODE or CODE of a known indicator)")
            else:
                warn_at_most = (float(m.group(1) or 1), m.group(2))
        if bad:
            problems.extend(bad)
            continue
        indicators.append(Indicator(
            code=code, name_vi=row["name_vi"], unit_vi=row["unit_vi"], kinds=kinds,
            type=row["type"], group=row["group"], aggregate=row["aggregate"],
            min=numbers["min"], max=numbers["max"], at_most=at_most,
            warn_at_most=warn_at_most, warn_yoy_factor=numbers["warn_yoy_factor"]))
    return indicators


# -- cycles.yaml ----------------------------------------------------------------------

def _load_cycles(path: Path, calendar: WorkCalendar, problems: list[str]
                 ) -> tuple[dict[str, str], list[Cycle]]:
    if not path.is_file():
        problems.append(f"{path}: file not found")
        return {}, []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problems.append(f"{path}: {exc}")
        return {}, []
    reward_forms = {str(k): str(v) for k, v in (raw.get("reward_forms") or {}).items()}
    cycles: list[Cycle] = []
    seen: set[str] = set()
    # yaml.compose keeps each field's line, so messages can point at it.
    for entry, node in zip(raw.get("cycles") or [], _cycle_nodes(path)):
        def at(key: str, node: yaml.Node = node) -> str:
            return f"{path}:{_line_of(node, key)}"

        if not isinstance(entry, dict):
            problems.append(f"{at('')}: cycle: expected a mapping")
            continue
        bad = [f"{at(key)}: {key}: missing" for key in ("id", "kind", "title", "due")
               if not entry.get(key)]
        cycle_id = str(entry.get("id", ""))
        if cycle_id in seen:
            bad.append(f"{at('id')}: id: duplicate cycle {cycle_id!r}")
        seen.add(cycle_id)
        if entry.get("kind") and entry["kind"] not in CYCLE_KINDS:
            bad.append(f"{at('kind')}: kind: {entry['kind']!r} not one of "
                       f"{', '.join(CYCLE_KINDS)}")
        due = _parse_date(entry.get("due"))
        if entry.get("due") and due is None:
            bad.append(f"{at('due')}: due: not a date (YYYY-MM-DD): {entry['due']!r}")
        period = entry.get("period") or [None, None]
        start, end = (_parse_date(period[0]), _parse_date(period[1])) if len(period) == 2 \
            else (None, None)
        if entry.get("kind") not in (None, "ke_hoach") and (start is None or end is None
                                                           or start > end):
            bad.append(f"{at('period')}: period: expected [start, end] dates, start before end")
        opens = _parse_date(entry.get("opens")) if entry.get("opens") else None
        if entry.get("opens") and opens is None:
            bad.append(f"{at('opens')}: opens: not a date (YYYY-MM-DD): {entry['opens']!r}")
        forms = tuple(entry.get("reward_forms") or ())
        bad += [f"{at('reward_forms')}: reward_forms: unknown form {f!r}" for f in forms
                if f not in reward_forms]
        if bad:
            problems.extend(bad)
            continue
        cycles.append(Cycle(
            id=cycle_id, kind=entry["kind"], title=str(entry["title"]), due_original=due,
            due=calendar.move_due_date(due), period_start=start, period_end=end,
            year=entry.get("year"), phase=entry.get("phase"),
            targets=tuple(int(y) for y in entry.get("targets") or ()), reward_forms=forms,
            opens=opens))
    if not cycles and not problems:
        problems.append(f"{path}: no cycles")
    return reward_forms, cycles


def _line_of(node: yaml.Node, key: str) -> int:
    """1-based line of `key` in a YAML mapping node, else the node's own line."""
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if k.value == key:
                return k.start_mark.line + 1
    return node.start_mark.line + 1


def _cycle_nodes(path: Path) -> list[yaml.Node]:
    root = yaml.compose(path.read_text(encoding="utf-8"))
    for key, value in getattr(root, "value", []):
        if key.value == "cycles" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    return []


# -- helpers --------------------------------------------------------------------------

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
    try:
        return float(text)
    except ValueError:
        return None
