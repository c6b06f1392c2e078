"""Where thidua keeps its data (`THIDUA_HOME`) and reads its config (`THIDUA_CONFIG`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    home: Path
    config: Path
    inbox_dir: Path | None = None  # THIDUA_INBOX, when the inbox is elsewhere

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def inbox(self) -> Path:
        return self.inbox_dir or self.home / "inbox"

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

    @property
    def locks(self) -> Path:
        return self.home / "locks"

    def data_dirs(self) -> list[Path]:
        return [
            self.home,
            self.inbox,
            self.archive,
            self.quarantine,
            self.outbox,
            self.reports,
            self.data_docs,
        ]
