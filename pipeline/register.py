"""The register of awards decided, behind `thidua khen-thuong register …`: awards the
council's path recorded (Quyết định of the Chủ tịch UBND xã, decisions received from
above) and awards entered by hand, each row with who entered it and when.
"""

from __future__ import annotations

from pathlib import Path

from thidua.register import AwardEntry, read_entries
from thidua.workspace import Workspace
from warehouse.db import WAREHOUSE_LOCK, connect
from warehouse.queries import award_register
from warehouse.writer import add_award_entries

HAND = "nhap-tay"  # origin of an award typed at the CLI


def add(ws: Workspace, entries: list[AwardEntry], actor: str, source: str = HAND) -> list[int]:
    """Enter awards decided outside thidua; returns their register ids."""
    with WAREHOUSE_LOCK, connect(ws.paths.warehouse) as con:
        return add_award_entries(con, [e.row() for e in entries], source, actor)


def import_xlsx(ws: Workspace, path: Path, actor: str) -> list[int]:
    """Every row of a danh sách workbook, all checked before any is entered."""
    return add(ws, read_entries(ws.config, path), actor, source=path.name)


def entries(ws: Workspace) -> list[dict]:
    """The register, each award with its form's name and its unit's name."""
    cfg = ws.config
    with connect(ws.paths.warehouse, read_only=True) as con:
        rows = award_register(con)
    units = cfg.units_by_code
    for r in rows:
        r["form_vi"] = cfg.reward_forms.get(r["reward_form"], r["reward_form"])
        unit = units.get(r["unit_code"] or "")
        r["unit_name"] = r["unit_name"] or (unit.name if unit else None)
    return rows
