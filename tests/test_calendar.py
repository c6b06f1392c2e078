"""The working-day calendar: the spec's worked examples, then properties."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from thidua.calendar import STAGES, WorkCalendar, format_date_vi

cal = WorkCalendar()
days = st.dates(min_value=date(2025, 1, 1), max_value=date(2031, 12, 31))


def test_plan_due_date_moves_past_national_day():
    # 31/08/2025 is a Sunday; 01–02/09 are Quốc khánh.
    assert cal.move_due_date(date(2025, 8, 31)) == date(2025, 9, 3)


def test_annual_due_date_moves_off_saturday():
    assert cal.move_due_date(date(2025, 12, 20)) == date(2025, 12, 22)


def test_stage_dates_of_nam_2025():
    assert cal.stage_dates(date(2025, 12, 22)) == {
        "mo": date(2025, 11, 21),
        "t7": date(2025, 12, 11),
        "t3": date(2025, 12, 17),
        "t1": date(2025, 12, 19),
        "qua-han": date(2025, 12, 23),
        "don-doc": date(2025, 12, 29),
    }


def test_tet_and_makeup_days():
    assert not cal.is_working_day(date(2026, 2, 17))  # Tết Bính Ngọ
    assert cal.is_working_day(date(2025, 4, 26))  # Saturday made a working day
    custom = WorkCalendar(
        extra_days_off=frozenset({date(2025, 12, 22)}),
        makeup_working_days=frozenset({date(2025, 12, 20)}),
    )
    assert custom.move_due_date(date(2025, 12, 20)) == date(2025, 12, 20)
    assert custom.move_due_date(date(2025, 12, 21)) == date(2025, 12, 23)


def test_vietnamese_date_format():
    assert format_date_vi(date(2025, 12, 22)) == "22/12/2025"
    assert format_date_vi(date(2025, 9, 3), weekday=True) == "Thứ Tư, 03/09/2025"


@given(days)
def test_moved_due_date_is_a_working_day_never_earlier(d):
    moved = cal.move_due_date(d)
    assert moved >= d and cal.is_working_day(moved)
    assert all(not cal.is_working_day(d + timedelta(n)) for n in range((moved - d).days))


@given(days)
def test_stages_are_working_days_in_order(d):
    due = cal.move_due_date(d)
    dates = cal.stage_dates(due)
    assert list(dates) == list(STAGES)
    assert all(cal.is_working_day(x) for x in dates.values())
    ordered = [dates[s] for s in STAGES]
    assert ordered == sorted(ordered) and len(set(ordered)) == len(ordered)
    assert dates["t1"] < due < dates["qua-han"]


@given(days, st.integers(min_value=-30, max_value=30))
def test_add_working_days_counts_working_days(d, n):
    end = cal.add_working_days(d, n)
    lo, hi = sorted([d, end])
    between = [lo + timedelta(k) for k in range(1, (hi - lo).days + 1)]
    counted = [x for x in between if cal.is_working_day(x)]
    if n < 0:  # going back, `end` counts and `d` does not
        counted = [x for x in [lo] + between[:-1] if cal.is_working_day(x)]
    assert len(counted) == abs(n)
