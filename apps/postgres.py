"""A throwaway PostgreSQL cluster for the Prefect server (the multi-host test, the
tenants bench): Debian's `postgresql` binaries, found through `THIDUA_PG_BIN` (their bin
directory; `.ci/run` sets it), else /usr/lib/postgresql/*/bin.  Production sets up its
own database (docs/deploy.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apps.server import free_port


def pg_bin() -> Path | None:
    """PostgreSQL's bin directory, or None when it is not installed."""
    given = os.environ.get("THIDUA_PG_BIN")
    if given:
        return Path(given)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _sh(*args: str) -> None:
    done = subprocess.run(args, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stdout}{done.stderr}")


@contextmanager
def cluster(bin_dir: Path) -> Iterator[str]:
    """A cluster of our own on a free port with a database `prefect`; yields its
    `postgresql+asyncpg://` URL, stopped and removed after.  initdb runs as `postgres`
    when we are root, in a directory of /tmp it can reach (pytest's are private)."""
    data = Path(tempfile.mkdtemp(prefix="thidua-pg-"))
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(data, "postgres")
    port = free_port()
    _sh(*as_pg, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "thidua")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    log = str(data / "server.log")  # the server's output, not our pipes: run() returns
    _sh(*as_pg, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", log, "-w", "start")
    try:
        _sh(
            str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "thidua", "prefect"
        )
        yield f"postgresql+asyncpg://thidua@127.0.0.1:{port}/prefect"
    finally:
        _sh(*as_pg, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(data, ignore_errors=True)
