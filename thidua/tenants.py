"""The communes one deployment hosts: `tenants.toml` (`THIDUA_TENANTS`) names each tenant
and its config directory and home, so one Prefect server and one web app serve them all.

```toml
[tenants.phong-doanh]
config = "communes/phong-doanh/config"   # relative to this file
home = "/srv/thidua/phong-doanh"
```

A tenant's name is in addresses (`/t/<name>/…`), run tags and concurrency limit names:
lowercase letters, digits and dashes.  Its web keys and its inbox are its own (its
`secrets.toml`, its home): the process's `THIDUA_WEB_*` and `THIDUA_INBOX` would give
every commune the same, so they are not passed on.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from thidua.errors import ConfigError
from thidua.workspace import Workspace

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
NOT_SHARED = ("THIDUA_WEB_", "THIDUA_INBOX")
WRITER_LIMIT = "duckdb-writer"  # the Prefect concurrency limit of the one DuckDB writer


def writer_limit(tenant: str | None) -> str:
    """One writer per warehouse: a hosted commune's limit is its own (`duckdb-writer-<tenant>`),
    so communes write in parallel and each warehouse one run at a time."""
    return f"{WRITER_LIMIT}-{tenant}" if tenant else WRITER_LIMIT


@dataclass(frozen=True)
class Tenant:
    name: str
    config: Path
    home: Path

    def env(self, base: Mapping[str, str] = os.environ) -> dict[str, str]:
        """The process environment as this tenant's run sees it."""
        env = {k: v for k, v in base.items() if not k.startswith(NOT_SHARED)}
        env.update(THIDUA_CONFIG=str(self.config), THIDUA_HOME=str(self.home))
        return env

    def workspace(self) -> Workspace:
        return Workspace.from_env(self.env())


def load_tenants(path: Path) -> dict[str, Tenant]:
    """Every tenant of the file, by name; ConfigError naming each problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    tenants, problems = {}, []
    for name, entry in data.get("tenants", {}).items():
        if not NAME.match(name):
            problems.append(f"{path}: [tenants.{name}]: name: lowercase letters, digits, dashes")
        elif not isinstance(entry, dict) or not {"config", "home"} <= entry.keys():
            problems.append(f"{path}: [tenants.{name}]: needs config and home")
        else:
            config, home = (path.parent / entry[k] for k in ("config", "home"))
            tenants[name] = Tenant(name, config.absolute(), home.absolute())
    if not tenants and not problems:
        problems.append(f"{path}: no [tenants.<name>] table")
    if problems:
        raise ConfigError(problems)
    return tenants


def tenants_file(env: Mapping[str, str] = os.environ) -> Path:
    given = env.get("THIDUA_TENANTS")
    if not given:
        raise ConfigError(["THIDUA_TENANTS: not set (the tenants.toml of this deployment)"])
    return Path(given)


def tenant(name: str, env: Mapping[str, str] = os.environ) -> Tenant:
    """The tenant `name` of `THIDUA_TENANTS`; ConfigError when unknown."""
    path = tenants_file(env)
    found = load_tenants(path).get(name)
    if found is None:
        raise ConfigError([f"{path}: no tenant {name!r}"])
    return found
