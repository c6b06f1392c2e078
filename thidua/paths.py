"""Where thidua keeps its data (`THIDUA_HOME`) and reads its config (`THIDUA_CONFIG`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_CONFIG = Path(__file__).resolve().parent.parent / "config"


@dataclass(frozen=True)
class Paths:
    home: Path
    config: Path

    @classmethod
    def from_env(cls) -> Paths:
        """`THIDUA_HOME` (default `./var`) and `THIDUA_CONFIG` (default `./config`, else the
        sample Phong Doanh config shipped beside the package)."""
        home = Path(os.environ.get("THIDUA_HOME") or "var")
        config = os.environ.get("THIDUA_CONFIG")
        if config:
            config_dir = Path(config)
        elif Path("config/settings.toml").is_file():
            config_dir = Path("config")
        else:
            config_dir = REPO_CONFIG
        return cls(home=home.absolute(), config=config_dir.absolute())

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def inbox(self) -> Path:
        return Path(os.environ.get("THIDUA_INBOX") or self.home / "inbox")

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def data_docs(self) -> Path:
        return self.home / "data-docs"

    def data_dirs(self) -> list[Path]:
        return [self.home, self.inbox, self.archive, self.quarantine, self.outbox,
                self.reports, self.data_docs]
