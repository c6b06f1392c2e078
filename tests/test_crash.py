"""kill -9 at each step of a collection of 1,000 files, and in the middle of sending
reminders: the rerun loads every submission exactly once, with all its values, and
mails at most one message twice per kill (the one in flight)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from apps import synthetic
from pipeline.collect import collect
from pipeline.init import init_workspace
from pipeline.remind import remind
from thidua.settings import REPO_CONFIG
from thidua.workspace import Workspace
from warehouse.db import connect

pytestmark = pytest.mark.slow
N_FILES = 1_000
ON_TIME = datetime(2025, 12, 15, 10, tzinfo=timezone(timedelta(hours=7))).timestamp()
# A run that dies with SIGKILL `delay` seconds into a step: the runner of the sequence
# is where the fault goes in, the product's code is the same as in production.
KILLER = """
import os, signal, sys, threading
from datetime import date
from thidua.workspace import Workspace

name, delay = sys.argv[1], float(sys.argv[2])

def run(step, *args):
    if step.__name__ == name:
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
    return step(*args)

ws = Workspace.from_env()
if name == "send":
    from pipeline.remind import remind
    remind(ws, date.fromisoformat(sys.argv[3]), run=run)
else:
    from pipeline.collect import collect
    collect(ws, docs=False, run=run)
os.kill(os.getpid(), signal.SIGKILL)       # the step ended before the timer: die anyway
"""


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> Path:
    """1,000 distinct on-time workbooks of the sample units (read-only for the tests)."""
    from thidua.config import load_config

    cfg = load_config(REPO_CONFIG)
    cycle, units = cfg.cycle("nam-2025"), cfg.units
    folder = tmp_path_factory.mktemp("workbooks")
    for i in range(N_FILES):
        unit = units[i % len(units)]
        path = folder / f"{i:04d}_{unit.code}.xlsx"
        path.write_bytes(synthetic.workbook(cfg, unit, cycle, overrides={"TT01": i}))
        os.utime(path, (ON_TIME + i, ON_TIME + i))
    return folder


def home(tmp_path: Path, name: str, monkeypatch, workbooks: Path | None) -> Workspace:
    monkeypatch.setenv("THIDUA_HOME", str(tmp_path / name))
    monkeypatch.setenv("THIDUA_CONFIG", str(REPO_CONFIG))
    monkeypatch.delenv("THIDUA_SMTP_HOST", raising=False)
    ws = Workspace.from_env()
    init_workspace(ws)
    if workbooks:
        for path in workbooks.iterdir():
            shutil.copy2(path, ws.paths.inbox)
    return ws


def killed(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLER, *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == -9, done.stderr[-2000:]


def counts(ws: Workspace) -> dict[str, object]:
    with connect(ws.paths.warehouse, read_only=True) as con:
        one = lambda sql: con.execute(sql).fetchone()[0]
        return {
            "files": one("SELECT count(*) FROM files"),
            "submissions": one("SELECT count(*) FROM submissions"),
            "distinct": one("SELECT count(DISTINCT submission_id) FROM submissions"),
            "outcomes": con.execute(
                "SELECT outcome, count(*) FROM submissions GROUP BY 1 ORDER BY 1"
            ).fetchall(),
            "values": one("SELECT count(*) FROM submission_values"),
            "value_sum": one("SELECT sum(value) FROM submission_values"),
            "acks_sent": one("SELECT count(*) FROM acknowledgments WHERE status = 'sent'"),
        }


def mails_per_recipient_subject(outbox: Path) -> dict[tuple[str, str], int]:
    seen: dict[tuple[str, str], int] = {}
    parser = BytesHeaderParser(policy=policy.default)
    for eml in outbox.glob("*.eml"):
        msg = parser.parsebytes(eml.read_bytes())
        key = (str(msg["To"]), str(msg["Subject"]))
        seen[key] = seen.get(key, 0) + 1
    return seen


def test_kill_at_each_step_then_rerun_loads_everything_once(workbooks, tmp_path, monkeypatch):
    reference = home(tmp_path, "reference", monkeypatch, workbooks)
    collect(reference, docs=False)
    expected = counts(reference)
    assert expected["submissions"] == N_FILES and expected["acks_sent"] == N_FILES

    ws = home(tmp_path, "killed", monkeypatch, workbooks)
    kills = [
        ("take_in", "0.5"),
        ("examine", "1.0"),
        ("load", "0.05"),
        ("tidy_inbox", "0.01"),
        ("acknowledge", "0.5"),
    ]
    for step, delay in kills:
        killed(step, delay)
    collect(ws, docs=False)  # the rerun, uninterrupted
    assert counts(ws) == expected
    assert not list(ws.paths.inbox.iterdir())
    assert not list(ws.paths.archive.glob("*.tmp"))
    sent = mails_per_recipient_subject(ws.paths.outbox)
    duplicates = sum(n - 1 for n in sent.values())
    assert duplicates <= len(kills), f"{duplicates} acknowledgments mailed twice"


def test_kill_while_sending_reminders_then_rerun(tmp_path, monkeypatch):
    ws = home(tmp_path, "remind", monkeypatch, None)
    killed("send", "0.3", "2025-11-21")  # mo: 39 reminders with templates
    remind(ws, datetime(2025, 11, 21).date())
    sent = mails_per_recipient_subject(ws.paths.outbox)
    assert len(sent) == 39
    assert sum(n - 1 for n in sent.values()) <= 1
    with connect(ws.paths.warehouse, read_only=True) as con:
        assert con.execute("SELECT status, count(*) FROM reminders GROUP BY 1").fetchall() == [
            ("sent", 39)
        ]
