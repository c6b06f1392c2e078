"""Opening the warehouse file and upgrading its schema.

DuckDB lets one process write a file at a time, so every write in thidua goes through
`warehouse.writer`, in one transaction per call.  Readers open the file read-only.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from thidua.locks import file_lock

MIGRATION_RE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

# Threads of one process take turns here.  `<path>.lock` (a flock) keeps *processes*
# apart but is shared by the threads of one process, and DuckDB refuses a read-only and
# a read-write connection to one file in one process; GX's context and datasource are
# not thread-safe either.  Every `connect` and `session` holds it; a caller that must
# read then write with nothing in between (a review decision) holds it around both.
WAREHOUSE_LOCK = threading.RLock()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> Any:
    """The single value a query returns.  Fetches everything: DuckDB 2 refuses further
    work on a connection whose last result was not read to the end."""
    return con.execute(sql, params or []).fetchall()[0][0]


def migrations(directory: Path | None = None) -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration shipped (or in `directory`), in order."""
    found = []
    source = directory or resources.files("warehouse").joinpath("migrations")
    for entry in source.iterdir():
        m = MIGRATION_RE.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = scalar(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    )
    if not exists:
        return 0
    return scalar(con, "SELECT coalesce(max(version), 0) FROM schema_version")


def migrate(con: duckdb.DuckDBPyConnection, directory: Path | None = None) -> list[int]:
    """Apply the migrations the file lacks, each in its own transaction; return them."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
        "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    current = schema_version(con)
    applied = []
    for version, name, sql in migrations(directory):
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


# The warehouse a `session` holds open in this thread (or context): (path, connection).
_SESSION: ContextVar[tuple[Path, duckdb.DuckDBPyConnection] | None] = ContextVar(
    "warehouse_session", default=None
)


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is always closed, so DuckDB's file lock is released at once.

    It holds `WAREHOUSE_LOCK` and `<path>.lock` meanwhile: DuckDB refuses a second
    process (reader or writer) while one writes, so processes take turns here rather
    than fail.  Inside a `session` on the same file it is a cursor of the session's
    connection instead.
    """
    held = _SESSION.get()
    if held and held[0] == Path(path).absolute():
        cur = held[1].cursor()
        try:
            yield cur
        finally:
            cur.close()
        return
    with WAREHOUSE_LOCK, file_lock(path.with_name(path.name + ".lock")):
        con = duckdb.connect(str(path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()


@contextmanager
def session(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Hold the warehouse open (read-write, with `<path>.lock`) while a long-lived
    process runs one sequence: every `connect` of this thread to `path` meanwhile is a
    cursor of this connection, not a fresh open (see bench/README.md).  Other processes
    wait on `<path>.lock` and other threads of this one on `WAREHOUSE_LOCK` meanwhile, as
    they do for any writer."""
    with WAREHOUSE_LOCK, file_lock(path.with_name(path.name + ".lock")):
        con = duckdb.connect(str(path))
        token = _SESSION.set((Path(path).absolute(), con))
        try:
            yield con
        finally:
            _SESSION.reset(token)
            con.close()
