"""Working days of Vietnam and the dates that follow from a cycle's due date.

Public holidays (Tết included) come from the `holidays` package, which also knows the
Saturdays the government turned into working days; settings add announced extra days
off and make-up days.  Reminder stages are computed here, once per cycle: they are the
same for every unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import holidays

WEEKDAYS_VI = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]

# Reminder stages in the order they are sent: (stage, how its date is derived).
STAGES = ("mo", "t7", "t3", "t1", "qua-han", "don-doc")
_WORKING_DAY_OFFSETS = {"t7": -7, "t3": -3, "t1": -1, "qua-han": 1, "don-doc": 5}
OPEN_DAYS_BEFORE = 30


@dataclass
class WorkCalendar:
    extra_days_off: frozenset[date] = frozenset()
    makeup_working_days: frozenset[date] = frozenset()
    _holidays: holidays.HolidayBase = field(default_factory=lambda: holidays.VN(), repr=False)

    def is_working_day(self, d: date) -> bool:
        holiday = d in self._holidays  # also loads that year's weekend_workdays
        if d in self.makeup_working_days or d in self._holidays.weekend_workdays:
            return True
        return d.weekday() < 5 and not holiday and d not in self.extra_days_off

    def next_working_day(self, d: date) -> date:
        """`d` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def previous_working_day(self, d: date) -> date:
        """`d` itself when it is a working day, else the last working day before it."""
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after `d` (before it when n < 0); `d` itself does not count."""
        step = timedelta(days=1 if n >= 0 else -1)
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def move_due_date(self, due: date) -> date:
        """A due date on a weekend or holiday moves to the next working day."""
        return self.next_working_day(due)

    def opening_day(self, moved_due: date, opens: date | None = None) -> date:
        """The `mo` stage: the day a cycle opens (alone, it is 5x cheaper than `stage_dates`;
        collection asks it for every file).  A cycle with its own `opens` date (the plan
        cycle cannot open before the plan exists) opens on the first working day from
        then, when that is later."""
        day = self.previous_working_day(moved_due - timedelta(days=OPEN_DAYS_BEFORE))
        return max(day, self.next_working_day(opens)) if opens else day

    def stage_dates(self, moved_due: date, opens: date | None = None) -> dict[str, date]:
        """The send date of each reminder stage for a cycle whose (moved) due date is given.
        A cycle that opens late (`opens`) has no stage on or before its opening day but
        `mo`: the stages that would fall there are left out, so units get the opening
        email with their template first."""
        first = self.opening_day(moved_due, opens)
        dates = {"mo": first}
        for stage, offset in _WORKING_DAY_OFFSETS.items():
            day = self.add_working_days(moved_due, offset)
            if day > first or not opens:
                dates[stage] = day
        return dates


def format_date_vi(d: date, weekday: bool = False) -> str:
    """dd/mm/yyyy, optionally with the Vietnamese weekday: "Thứ Hai, 22/12/2025"."""
    text = d.strftime("%d/%m/%Y")
    return f"{WEEKDAYS_VI[d.weekday()]}, {text}" if weekday else text


def format_day_vi(d: date, weekday: bool = False) -> str:
    """A date as running text says it: "ngày 22/12/2025", "Thứ Hai, ngày 22/12/2025"."""
    text = f"ngày {d.strftime('%d/%m/%Y')}"
    return f"{WEEKDAYS_VI[d.weekday()]}, {text}" if weekday else text


def format_time_vi(dt: datetime) -> str:
    """A moment as running text says it: "10 giờ 00 ngày 26/12/2025" (already local)."""
    return f"{dt.hour} giờ {dt.minute:02d} ngày {dt.strftime('%d/%m/%Y')}"
