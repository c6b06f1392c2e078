"""`thidua init`: data directories, warehouse migrations, config loaded into the warehouse."""

from __future__ import annotations

from thidua.workspace import Workspace
from warehouse.db import connect, migrate
from warehouse.writer import sync_config


def init_workspace(ws: Workspace) -> dict[str, object]:
    """Create the data directories, upgrade the warehouse, load config into it.

    Idempotent: a second run creates, migrates and changes nothing.
    """
    created = [str(d) for d in ws.paths.data_dirs() if not d.exists()]
    for d in ws.paths.data_dirs():
        d.mkdir(parents=True, exist_ok=True)
    with connect(ws.paths.warehouse) as con:
        migrated = migrate(con)
        synced = sync_config(con, ws.config)
    return {
        "home": str(ws.paths.home),
        "warehouse": str(ws.paths.warehouse),
        "created_dirs": created,
        "migrations_applied": migrated,
        **synced,
    }
