"""Issue 21: thresholds scaled to the period a cycle covers.  The GX suite runs on frames
built from real rows (no mock): `warn_at_most` of a flow scales with the whole months of
the cycle, and the year-over-year check compares a flow with last year's at the same
pace, or not at all when the periods' lengths differ beyond the setting."""

from __future__ import annotations

import dataclasses

import pandas as pd

from expectations.submissions import long_frame
from expectations.validate import run_suite
from thidua.checks import period_scales

COLUMNS = ["submission_id", "cycle_id", "cycle_kind", "indicator", "measure", "value", "raw"]


def findings(cfg, rows: list[tuple], previous: list[tuple] = ()) -> set[tuple[str, str, str]]:
    values = pd.DataFrame(rows, columns=COLUMNS).assign(
        cell=lambda d: [f"ChiTieu!D{n + 2}" for n in range(len(d))]
    )
    prev = pd.DataFrame(list(previous), columns=["submission_id", "indicator", "prev"])
    frame = long_frame(values, cfg, prev, pd.Series(dtype=float))
    return {
        (sid, p.rule_id, p.message_vi)
        for sid, p in run_suite(frame, cfg)
        if p.rule_id in ("warn_at_most", "yoy")
    }


def unit(sid: str, cycle: str, kind: str, **values: float) -> list[tuple]:
    return [(sid, cycle, kind, code, "value", v, str(v)) for code, v in values.items()]


def test_period_scales_follow_the_cycles(cfg):
    scales = period_scales(cfg)
    assert scales["nam-2025"][0] == 4 / 12  # 21/08–14/12/2025: 116 days
    assert scales["nam-2026"] == (1.0, 365 / 116)
    assert scales["nam-2027"] == (1.0, 1.0)
    assert scales["so-ket-2027"][0] == 26 / 12  # 21/08/2025–31/10/2027
    assert scales["tong-ket-2030"][0] == 61 / 12
    assert scales["ke-hoach-2025"] == (1.0, 1.0)


def test_warn_at_most_of_a_flow_scales_with_the_months_of_the_cycle(cfg):
    """TT02 ≤ 20 × TS01 a year: 43,33 × TS01 over the 26 months of the sơ kết, 101,67 ×
    over the 61 of the tổng kết, 6,67 × over the four of 2025."""
    got = findings(
        cfg,
        unit("so-ket-ok", "so-ket-2027", "so_ket", TS01=100, TT02=4300)
        + unit("tong-ket-ok", "tong-ket-2030", "tong_ket", TS01=100, TT02=10000)
        + unit("so-ket-high", "so-ket-2027", "so_ket", TS01=100, TT02=4400)
        + unit("nam-2025-high", "nam-2025", "nam", TS01=100, TT02=700)
        + unit("nam-2026-ok", "nam-2026", "nam", TS01=100, TT02=2000),
    )
    assert {sid for sid, _, _ in got} == {"so-ket-high", "nam-2025-high"}
    messages = {sid: m for sid, _, m in got}
    assert messages["so-ket-high"].startswith("TT02 = 4.400 lớn hơn 4.333 (43,33 × TS01)")


def test_year_over_year_compares_flows_at_the_same_pace(cfg, tmp_path):
    """2026 against the 116 days of 2025: TT01 31 after 10 is the same pace (×3,15), not
    a threefold rise; 10 after 10 is a fall to a third; TS01 (a population) is compared
    as it is.  Beyond `yoy_max_length_ratio` flows are not compared at all."""
    rows = unit("s26", "nam-2026", "nam", TT01=31, TS01=100) + unit(
        "f26", "nam-2026", "nam", TT01=10, TS01=400
    )
    prev = [("s26", "TT01", 10), ("s26", "TS01", 100), ("f26", "TT01", 10), ("f26", "TS01", 100)]
    got = findings(cfg, rows, prev)
    assert {(sid, r, m.split(" chênh")[0]) for sid, r, m in got} == {
        ("f26", "yoy", "TT01 = 10"),
        ("f26", "yoy", "TS01 = 400"),
    }
    checks = cfg.settings.checks.model_copy(update={"yoy_max_length_ratio": 3.0})
    settings = cfg.settings.model_copy(update={"checks": checks})
    narrow = dataclasses.replace(cfg, settings=settings)
    assert {(sid, m.split(" chênh")[0]) for sid, _, m in findings(narrow, rows, prev)} == {
        ("f26", "TS01 = 400")
    }


def test_a_cumulative_target_below_the_year_before_is_a_warning(cfg):
    """Issue 21: targets for 2030 count from 2025, as 2027's do: a 2030 target of TT01
    below the 2027 one is warned at the plan cycle; rates and populations are not."""
    rows = [
        ("kh", "ke-hoach-2025", "ke_hoach", code, f"target_{y}", v, str(v))
        for code, by_year in {
            "TT01": {2027: 40, 2030: 30},
            "BD02": {2027: 50, 2030: 80},
            "HC04": {2027: 90, 2030: 85},
            "TS01": {2027: 100, 2030: 90},
        }.items()
        for y, v in by_year.items()
    ]
    values = pd.DataFrame(rows, columns=COLUMNS).assign(
        cell=lambda d: [f"ChiTieu!E{n}" for n in range(len(d))]
    )
    prev = pd.DataFrame(columns=["submission_id", "indicator", "prev"])
    frame = long_frame(values, cfg, prev, pd.Series(dtype=float))
    got = [
        (p.rule_id, p.message_vi) for _, p in run_suite(frame, cfg) if p.rule_id == "target_order"
    ]
    assert got == [
        (
            "target_order",
            (
                "TT01: chỉ tiêu đăng ký 30 thấp hơn chỉ tiêu năm trước (40); chỉ tiêu tính lũy "
                "kế từ đầu giai đoạn nên năm sau không thấp hơn năm trước."
            ),
        )
    ]
