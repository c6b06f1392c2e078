"""A thidua workspace: the config it runs on and the data directory it fills."""

from __future__ import annotations

from dataclasses import dataclass

from thidua.config import Config, load_config
from thidua.locks import file_lock
from thidua.paths import Paths


@dataclass(frozen=True)
class Workspace:
    paths: Paths
    config: Config

    @classmethod
    def from_env(cls) -> Workspace:
        """Load and validate config (ConfigError when broken); touches no file."""
        paths = Paths.from_env()
        return cls(paths=paths, config=load_config(paths.config))

    def run_lock(self, flow_name: str):
        """Held for a whole run of a flow that must not overlap itself: a scheduled run
        and a manual one take turns, so nothing is collected or mailed twice."""
        return file_lock(self.paths.home / "locks" / f"{flow_name}.lock")


def init_workspace(ws: Workspace) -> dict[str, object]:
    """Create the data directories, upgrade the warehouse, load config into it.

    Idempotent: a second run creates, migrates and changes nothing.
    """
    from warehouse.db import connect, migrate
    from warehouse.writer import sync_config

    created = [str(d) for d in ws.paths.data_dirs() if not d.exists()]
    for d in ws.paths.data_dirs():
        d.mkdir(parents=True, exist_ok=True)
    with connect(ws.paths.warehouse) as con:
        migrated = migrate(con)
        synced = sync_config(con, ws.config)
    return {"home": str(ws.paths.home), "warehouse": str(ws.paths.warehouse),
            "created_dirs": created, "migrations_applied": migrated, **synced}
