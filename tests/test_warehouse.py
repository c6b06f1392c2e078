"""Warehouse migrations and the config sync: idempotent, upgrades keep data."""

import shutil
from pathlib import Path

import duckdb

from warehouse.db import connect, migrate, migrations, schema_version, session
from warehouse.writer import sync_config


def test_fresh_file_gets_every_migration_once(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        assert migrate(con) == [v for v, _, _ in migrations()]
        assert migrate(con) == []
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    assert {
        "unit_versions",
        "cycles",
        "reminders",
        "submissions",
        "submission_values",
        "validation_results",
        "rollups",
        "schema_version",
    } <= tables


def test_upgrade_applies_only_new_migrations_and_keeps_data(tmp_path):
    shipped = Path(migrations.__globals__["resources"].files("warehouse") / "migrations")
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(shipped / "001_init.sql", old)
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        migrate(con, old)
        con.execute("INSERT INTO files VALUES ('abc', 'x.xlsx', 1, 'inbox', NULL, now(), 'a')")
    new = tmp_path / "new"
    shutil.copytree(old, new)
    (new / "002_add_note.sql").write_text("ALTER TABLE files ADD COLUMN note VARCHAR;")
    with connect(path) as con:
        assert schema_version(con) == 1
        assert migrate(con, new) == [2]
        assert con.execute("SELECT sha256, note FROM files").fetchall() == [("abc", None)]
        assert schema_version(con) == 2


def test_failed_migration_rolls_back(tmp_path):
    shipped = Path(migrations.__globals__["resources"].files("warehouse") / "migrations")
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(shipped / "001_init.sql", bad)
    (bad / "002_broken.sql").write_text("CREATE TABLE half (x INT); SELECT * FROM nowhere;")
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        try:
            migrate(con, bad)
        except duckdb.Error:
            pass
        assert schema_version(con) == 1
        assert con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half'"
        ).fetchall() == [(0,)]


def test_sync_config_versions_changed_units(cfg, tmp_path):
    from dataclasses import replace

    with connect(tmp_path / "w.duckdb") as con:
        migrate(con)
        assert sync_config(con, cfg)["units_added"] == 39
        assert sync_config(con, cfg)["units_added"] == 0
        moved = replace(cfg.units[0], email="moi@phongdoanh.example")
        fewer = replace(cfg, units=(moved,) + cfg.units[1:-1])
        summary = sync_config(con, fewer)
        assert (summary["units_added"], summary["units_changed"], summary["units_retired"]) == (
            0,
            1,
            1,
        )
        rows = con.execute(
            "SELECT version, email, retired_at IS NULL FROM unit_versions "
            "WHERE code = 'CQ-VP' ORDER BY version"
        ).fetchall()
        assert rows == [
            (1, "vanphong@phongdoanh.example", False),
            (2, "moi@phongdoanh.example", True),
        ]
        assert con.execute("SELECT count(*) FROM units").fetchall() == [(38,)]


def test_submission_key_migration_fills_existing_rows(tmp_path):
    """003 on a warehouse that already holds submissions: each gets its own sk, its values
    the same, and submissions loaded afterwards continue the sequence."""
    shipped = Path(migrations.__globals__["resources"].files("warehouse") / "migrations")
    old = tmp_path / "old"
    old.mkdir()
    for f in shipped.glob("00[12]_*.sql"):
        shutil.copy(f, old)
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        migrate(con, old)
        for sid in ("a" * 64, "b" * 64):
            con.execute(
                "INSERT INTO submissions (submission_id, received_at, outcome, "
                "file_format, batch_id) VALUES (?, now(), 'accepted', 'xlsx', 'b1')",
                [sid],
            )
            con.executemany(
                "INSERT INTO submission_values VALUES (?, ?, 'value', ?, NULL, NULL, NULL)",
                [[sid, "TS01", 1.0], [sid, "TS02", 2.0]],
            )
        assert 3 in migrate(con)
        keys = dict(con.execute("SELECT submission_id, sk FROM submissions").fetchall())
        assert sorted(keys.values()) == [1, 2]
        assert con.execute("SELECT submission_id, sk FROM submission_values").fetchall() == [
            (s, keys[s]) for s in ("a" * 64, "a" * 64, "b" * 64, "b" * 64)
        ]
        con.execute(
            "INSERT INTO submissions (submission_id, received_at, outcome, "
            "file_format, batch_id) VALUES ('c', now(), 'rejected', 'csv', 'b2')"
        )
        assert con.execute("SELECT sk FROM submissions WHERE submission_id = 'c'").fetchall() == [
            (3,)
        ]


def test_load_submissions_keys_the_values(workspace):
    """The loader copies each new submission's sk onto its values (rollups join on it)."""
    from data.corpus import CASES, DIR

    from pipeline.collect import examine, take_in
    from thidua.batch import batch_frames
    from warehouse.writer import load_submissions

    for case in CASES[:4]:
        shutil.copy(DIR / case.name, workspace.paths.inbox / case.name)
    frames = batch_frames(examine(workspace, take_in(workspace), docs=False))
    with connect(workspace.paths.warehouse) as con:
        assert load_submissions(con, frames) == 4
        n, keyed = con.execute("""
            SELECT count(*), count(*) FILTER (WHERE v.sk = s.sk)
            FROM submission_values v JOIN submissions s USING (submission_id)""").fetchall()[0]
    assert n > 0 and keyed == n


def test_current_submissions_is_the_latest_accepted_version(tmp_path):
    """004's arg_max view gives exactly the rows of the window it replaced: per (unit,
    cycle) the accepted version with the highest number, whatever came after it."""
    with connect(tmp_path / "w.duckdb") as con:
        migrate(con)
        outcomes = ["accepted", "rejected", "accepted_with_warnings", "unreadable"]
        con.execute(
            """
            INSERT INTO submissions (submission_id, unit_code, cycle_id, version, received_at,
                                     outcome, file_format, batch_id)
            SELECT 's' || u || c || v, 'U' || u, 'nam-' || c, v, now(),
                   $outcomes[1 + (hash(u, c, v) % 4)::INTEGER], 'xlsx', 'b'
            FROM range(40) a(u), range(2025, 2028) b(c), range(1, 5) d(v)""",
            {"outcomes": outcomes},
        )
        window = con.execute("""
            SELECT submission_id FROM submissions
            WHERE outcome IN ('accepted', 'accepted_with_warnings')
            QUALIFY row_number() OVER (PARTITION BY unit_code, cycle_id
                                       ORDER BY version DESC) = 1
            ORDER BY 1""").fetchall()
        view = con.execute("SELECT submission_id FROM current_submissions ORDER BY 1").fetchall()
        assert view == window and 0 < len(view) < 120


def test_session_serves_every_connect_from_one_connection(tmp_path):
    """Inside `session`, a read-only `connect` of the same file is a cursor of the
    session's read-write connection (DuckDB refuses a second open with another
    configuration in one process) and sees its writes; after it, the file is free."""
    path = tmp_path / "w.duckdb"
    with session(path) as held:
        with connect(path) as con:
            con.execute("CREATE TABLE t (x INTEGER)")
            con.execute("INSERT INTO t VALUES (1), (2)")
        with connect(tmp_path / "." / "w.duckdb", read_only=True) as con:
            assert con.execute("SELECT sum(x) FROM t").fetchall() == [(3,)]
        assert held.execute("SELECT count(*) FROM t").fetchall() == [(2,)]
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT sum(x) FROM t").fetchall() == [(3,)]
