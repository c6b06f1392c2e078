"""The rollup package for the tier above, written beside the rollup's other files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from thidua import package
from thidua.config import Config, Cycle


def write_package(cfg: Config, cycle: Cycle, tables: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write `out/package/`: the province's workbook filled with this rollup's figures and
    its manifest.  Nothing when the config names no tier above, or the tier has no cycle
    of this id (a plan cycle)."""
    tier = package.tier_above(cfg)
    tier_cycle = tier.cycle(cycle.id) if tier else None
    if tier is None or tier_cycle is None:
        return {}
    sources = tables["sources"][["cycle_id", "unit_code", "version", "submission_id"]]
    return package.write(
        tier,
        tier_cycle,
        package.values(cfg, tables),
        sources.to_dict("records"),
        out / "package",
    )
