"""The unit's workbook as every path hands it out (`thidua template`, the reminder's
attachment, the web download): a review's carries the unit's accepted figures of each
year of the phase, read here from the warehouse, since the domain never reads it."""

from __future__ import annotations

from thidua.config import REVIEW_KINDS, Cycle, Unit
from thidua.rollup.model import phase_years
from thidua.template import Earlier, build_workbook
from thidua.workspace import Workspace
from warehouse.db import connect
from warehouse.queries import accepted_values


def earlier_figures(ws: Workspace, cycle: Cycle, units: list[str]) -> dict[str, Earlier]:
    """unit → what it reported and had accepted in each annual cycle of `cycle`'s phase;
    empty for other cycles, or before the warehouse exists."""
    if cycle.kind not in REVIEW_KINDS or not units or not ws.paths.warehouse.exists():
        return {}
    years = [c.id for c in phase_years(ws.config, cycle)]
    with connect(ws.paths.warehouse, read_only=True) as con:
        return dict(accepted_values(con, units, years))


def workbook(ws: Workspace, unit: Unit, cycle: Cycle) -> bytes:
    """The prefilled template of `unit` for `cycle`, with its earlier years (a review)."""
    earlier = earlier_figures(ws, cycle, [unit.code]).get(unit.code, {})
    return build_workbook(ws.config, unit, cycle, earlier=earlier)
