"""The whole movement played 2025–2030 (issue 21), shared by tests/test_phase_play.py and
docs/render-report.sh: the units of the registry send the plan, every annual report and
both reviews as real workbooks, collected from the inbox, then both phases are rolled up.

Figures grow from each unit's own 2025 values (synthetic, varied per unit): flows at the
pace of their period (2025 covers four months), stocks a little each year; the reviews
carry flows cumulative to their cut-off and stocks at it.  TX-03 sends in its sơ kết
only the flows of its last months (below what its annual reports already add up to);
CQ-KT reports a multi-year TT02 close to, but within, the bound scaled to the review's
months.

    PYTHONPATH=tests .venv/bin/python -m phase_play   # in $THIDUA_HOME
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from apps import synthetic
from pipeline.collect import collect
from pipeline.rollup import run_phase
from thidua.rollup.model import phase_years
from thidua.rollup.result import RollupResult
from thidua.workspace import Workspace

UNDER = "TX-03"  # its sơ kết flows cover only its last months
NEAR = "CQ-KT"  # its multi-year TT02 is near the scaled bound
GROWTH = 1.08


def _annual(cfg, unit, year: int) -> dict[str, float]:
    """The unit's figures of nam-<year>: flows at the pace of the period, stocks grown."""
    vals = synthetic.values(cfg, unit, cfg.cycle(f"nam-{year}"))
    first = synthetic.values(cfg, unit, cfg.cycle("nam-2025"))
    inds = {i.code: i for i in cfg.indicators}
    grow = GROWTH ** (year - 2025)
    share = 4 / 12 if year == 2025 else 1.0
    out = {}
    for code, v in vals.items():
        i = inds[code]
        if i.type in ("percent", "bool") or code == "SK01":
            out[code] = v
        elif i.aggregate == "sum":
            out[code] = float(round(v * share * grow))
        else:  # stocks grow steadily from their 2025 level
            out[code] = float(round(first[code] * grow))
    return out


def _review(cfg, unit, phase) -> dict[str, float]:
    """Flows cumulative from 21/08/2025 to the cut-off, stocks and rates at it."""
    years = [c.year for c in phase_years(cfg, phase)]
    last = _annual(cfg, unit, phase.year)  # the year the cut-off falls in
    months = {2027: 10.5, 2030: 9.5}[phase.year]
    inds = {i.code: i for i in cfg.indicators}
    out = {}
    for code, v in last.items():
        i = inds[code]
        if i.aggregate == "sum" and i.type not in ("percent", "bool") and code != "SK01":
            tail = float(round(v * months / 12))
            done = sum(_annual(cfg, unit, y)[code] for y in years)
            out[code] = tail if unit.code == UNDER and phase.phase == 1 else done + tail
        else:
            out[code] = v
    if unit.code == NEAR:  # just within 20 × TS01 × the review's months / 12
        out["TT02"] = {1: 43.0, 2: 101.0}[phase.phase] * out["TS01"]
    return out


def _initiatives(cfg, unit, cycle) -> int:
    """One initiative a year; a review lists those of its years and of its last months."""
    if cycle.kind not in ("so_ket", "tong_ket"):
        return 1
    return 1 if unit.code == UNDER and cycle.phase == 1 else len(phase_years(cfg, cycle)) + 1


def _send(ws, cfg, setenv, cycle, values_of) -> None:
    received = datetime.combine(cycle.due - timedelta(days=3), time(9), cfg.settings.calendar.tz)
    setenv("THIDUA_NOW", (received + timedelta(hours=1)).isoformat())
    units = [u for u in cfg.units if u.valid_on(cycle.due)]
    for u in units:
        n = _initiatives(cfg, u, cycle)
        overrides = values_of(u) | ({"SK01": float(n)} if not cycle.targets else {})
        data = synthetic.workbook(cfg, u, cycle, initiatives=n, overrides=overrides)
        path = ws.paths.inbox / f"{cycle.id}_{u.code}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (received.timestamp(), received.timestamp()))
    collect(ws, docs=False, acks=False)


def play(ws: Workspace, setenv: Callable[[str, str], None]) -> dict[int, RollupResult]:
    """Send and collect every cycle of the plan, then roll up both phases after their
    due dates; `setenv` sets THIDUA_NOW to each moment of the story."""
    cfg = ws.config
    _send(ws, cfg, setenv, cfg.cycle("ke-hoach-2025"), lambda u: {})
    for year in range(2025, 2031):
        _send(ws, cfg, setenv, cfg.cycle(f"nam-{year}"), lambda u, y=year: _annual(cfg, u, y))
        if year in (2027, 2030):
            phase = cfg.cycle("so-ket-2027" if year == 2027 else "tong-ket-2030")
            _send(ws, cfg, setenv, phase, lambda u, p=phase: _review(cfg, u, p))
    return {
        1: run_phase(ws, 1, today=date(2027, 11, 20)),
        2: run_phase(ws, 2, today=date(2030, 10, 20)),
    }


if __name__ == "__main__":
    from pipeline.init import init_workspace

    workspace = Workspace.from_env()
    init_workspace(workspace)
    for result in play(workspace, os.environ.__setitem__).values():
        print(result.files["docx"])
