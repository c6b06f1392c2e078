"""A thidua workspace: the config it runs on and the data directory it fills."""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass

from thidua.config import Config, load_config
from thidua.locks import file_lock
from thidua.paths import Paths
from thidua.settings import config_dir, resolve_settings


@dataclass(frozen=True)
class Workspace:
    paths: Paths
    config: Config

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Workspace:
        """Resolve settings (settings.toml → secrets.toml → THIDUA_*) and load the config
        once, for a whole run (ConfigError when broken); touches no file."""
        directory = config_dir(env)
        settings = resolve_settings(directory, env)
        paths = Paths(
            home=settings.home.absolute(),
            config=directory,
            inbox_dir=settings.inbox.absolute() if settings.inbox else None,
        )
        return cls(paths=paths, config=load_config(directory, settings))

    def run_lock(self, flow_name: str) -> AbstractContextManager[None]:
        """Held for a whole run of a flow that must not overlap itself: a scheduled run
        and a manual one take turns, so nothing is collected or mailed twice."""
        return file_lock(self.paths.locks / f"{flow_name}.lock", self.config.settings.lock_timeout)
