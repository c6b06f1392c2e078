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
