"""Benchmark of the reminder flow's two hot paths; prints rates and ratios.

1. Due-stage computation for 133,000 synthetic units (goal < 1 s), against a naive
   Python loop that computes stage dates and checks the sent log unit by unit.
2. Emails per second to a local aiosmtpd running in another process: through the
   mailer (one connection), against a bare smtplib loop of prebuilt messages (the
   floor), the same loop building each message first, and one connection per email.

Run: .venv/bin/python bench/remind.py [--units 133000] [--emails 500]
(smoke: --units 3000 --emails 20)
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from pipeline.remind import plan_reminders
from thidua.config import load_config
from thidua.mailer import build_message, open_mailer
from thidua.reminders import STAGE_NO, reminder_email
from thidua.settings import REPO_CONFIG
from warehouse.db import migrate
from warehouse.writer import sync_config

T7 = date(2025, 12, 11)
KINDS = ["co_quan", "mat_tran_doan_the", "doanh_nghiep", "thon_xom"]


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def synthetic_warehouse(cfg, n_units: int) -> duckdb.DuckDBPyConnection:
    """`n_units` units; a tenth already reminded at t7, a tenth with an accepted submission."""
    con = duckdb.connect()
    migrate(con)
    sync_config(con, cfg)
    con.execute(f"""
        INSERT INTO unit_versions (code, version, name, kind, block, email, head_title,
                                   head_email)
        SELECT 'S' || lpad(i::VARCHAR, 6, '0'), 1, 'Đơn vị ' || i,
               ['{"','".join(KINDS)}'][1 + i % 4], 'thon_xom',
               'u' || i || '@x.example', 'Trưởng đơn vị', 'h' || i || '@x.example'
        FROM range({n_units - len(cfg.units)}) t(i)""")
    con.execute("""
        INSERT INTO reminders (unit_code, cycle_id, stage, due_date, stage_date, status)
        SELECT code, 'nam-2025', 't7', DATE '2025-12-22', DATE '2025-12-11', 'sent'
        FROM units WHERE hash(code) % 10 = 0""")
    con.execute("""
        INSERT INTO submissions (submission_id, unit_code, cycle_id, version, received_at,
                                 outcome, file_format, batch_id)
        SELECT 'sha-' || code, code, 'nam-2025', 1, now(), 'accepted', 'xlsx', 'b'
        FROM units WHERE hash(code) % 10 = 1""")
    return con


def naive_plan(cfg, con) -> int:
    """The loop the vectorised plan replaces: per unit, per cycle, dates and lookups."""
    units = con.execute("SELECT code FROM units").fetchall()
    sent = {
        (u, c, s)
        for u, c, s in con.execute(
            "SELECT unit_code, cycle_id, stage FROM reminders WHERE status = 'sent'"
        ).fetchall()
    }
    accepted = {
        (u, c)
        for u, c in con.execute("SELECT unit_code, cycle_id FROM current_submissions").fetchall()
    }
    due = 0
    for (code,) in units:
        for cycle in cfg.cycles:
            dates = cfg.calendar.stage_dates(cycle.due, cycle.opens)
            reached = [s for s, d in dates.items() if d <= T7]
            if not reached:
                continue
            stage = reached[-1]
            if any((code, cycle.id, s) in sent for s in dates if STAGE_NO[s] >= STAGE_NO[stage]):
                continue
            if STAGE_NO[stage] >= 1 and (code, cycle.id) in accepted:
                continue
            due += 1
    return due


def bench_plan(cfg, n_units: int) -> None:
    con = synthetic_warehouse(cfg, n_units)
    planned = plan_reminders(con, cfg, T7)
    to_send = int(planned["skip"].isna().sum())
    vectorised = best_of(5, lambda: plan_reminders(con, cfg, T7))
    sample = 2_000  # the naive loop on a slice, scaled to all units
    con.execute(f"CREATE TEMP TABLE keep AS SELECT code FROM units LIMIT {sample}")
    con.execute(
        "UPDATE unit_versions SET retired_at = now() WHERE code NOT IN (SELECT code FROM keep)"
    )
    naive = best_of(1, lambda: naive_plan(cfg, con)) * n_units / sample
    print(f"stage computation, {n_units:,} units: {len(planned):,} rows, {to_send:,} to send")
    print(f"  vectorised (DuckDB)     {vectorised * 1000:8.1f} ms   (goal < 1000 ms)")
    print(f"  naive Python loop       {naive * 1000:8.1f} ms   (2,000 units, scaled)")
    print(f"  ratio naive / vectorised {naive / vectorised:7.1f}x")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(port: int) -> subprocess.Popen:
    """aiosmtpd in another process, discarding what it receives."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ]
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("aiosmtpd did not start")


def bench_send(cfg, tmp: Path, n_emails: int) -> None:
    port = free_port()
    os.environ.update(
        THIDUA_SMTP_HOST="127.0.0.1", THIDUA_SMTP_PORT=str(port), THIDUA_SMTP_SECURITY="none"
    )
    os.environ.pop("THIDUA_SMTP_USER", None)
    n_connections = min(150, n_emails)
    units, cycle = cfg.units, cfg.cycle("nam-2025")
    emails = [reminder_email(cfg, units[i % len(units)], cycle, "t7") for i in range(n_emails)]
    sender, name = cfg.settings.sender.email, cfg.settings.sender.name
    prebuilt = [(e.to + e.cc, build_message(e, sender, name).as_bytes()) for e in emails]
    proc = start_sink(port)
    try:

        def floor():
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                for rcpts, data in prebuilt:
                    smtp.sendmail(sender, rcpts, data)

        def floor_build():
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                for e in emails:
                    smtp.sendmail(sender, e.to + e.cc, build_message(e, sender, name).as_bytes())

        def mailer():
            with open_mailer(cfg.settings, tmp) as m:
                results = [m.send(e) for e in emails]
            assert all(r.ok for r in results)

        def per_email():
            for e in emails[:n_connections]:
                with open_mailer(cfg.settings, tmp) as m:
                    assert m.send(e).ok

        paths = [
            ("bare smtplib, prebuilt (floor)", n_emails, floor),
            ("bare smtplib, build + send", n_emails, floor_build),
            ("mailer, one connection", n_emails, mailer),
            ("mailer, one connection per email", n_connections, per_email),
        ]
        best = {label: float("inf") for label, _, _ in paths}
        for _ in range(3):  # rounds interleave the paths: load drifts hit all alike
            for label, _, fn in paths:
                best[label] = min(best[label], best_of(1, fn))
        rates = {label: n / best[label] for label, n, _ in paths}
    finally:
        proc.terminate()
        proc.wait()
    print(f"emails/s to aiosmtpd in another process ({n_emails} rendered t7 reminders):")
    for label, rate in rates.items():
        print(f"  {label:34s} {rate:8.1f}/s")
    mailer_rate = rates["mailer, one connection"]
    print(
        f"  floor / mailer                     {rates['bare smtplib, prebuilt (floor)'] / mailer_rate:8.2f}x"
    )
    print(
        f"  build+send floor / mailer          {rates['bare smtplib, build + send'] / mailer_rate:8.2f}x   (goal <= 1.5x)"
    )
    print(
        f"  mailer / connection per email      {mailer_rate / rates['mailer, one connection per email']:8.2f}x   (goal >= 2x)"
    )


def main() -> None:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=133_000)
    ap.add_argument("--emails", type=int, default=500)
    args = ap.parse_args()
    cfg = load_config(REPO_CONFIG)
    bench_plan(cfg, args.units)
    with tempfile.TemporaryDirectory() as tmp:
        bench_send(cfg, Path(tmp), args.emails)


if __name__ == "__main__":
    main()
