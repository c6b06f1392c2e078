"""The initiatives of a workbook (SangKien): a date outside the cycle's period is a
warning on its cell."""

from __future__ import annotations

from helpers import drop, rows

from apps import synthetic
from pipeline.collect import collect
from thidua.template import build_workbook


def test_initiative_date_outside_the_period_is_a_warning(workspace, cfg):
    ws = workspace
    unit, cycle = cfg.unit("TX-02"), cfg.cycle("nam-2025")
    initiatives = [("Sáng kiến A", "An", "Y tế", "15/06/2025", "Tốt", "Cấp xã")]
    data = build_workbook(
        cfg,
        unit,
        cycle,
        synthetic.values(cfg, unit, cycle, 1),
        info=synthetic.narrative(unit),
        initiatives=initiatives,
    )
    drop(ws.paths.inbox, "tx02.xlsx", data)
    collect(ws, docs=False, acks=False)
    assert rows(ws, "SELECT rule_id, severity, cell FROM validation_results") == [
        ("initiative_date", "warning", "SangKien!E2")
    ]
    assert rows(ws, "SELECT outcome FROM submissions") == [("accepted_with_warnings",)]
