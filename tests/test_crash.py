"""kill -9 at each step of a collection of 1,000 files, and in the middle of sending
reminders: the rerun loads every submission exactly once, with all its values, and
mails at most one message twice per kill (the one in flight)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from helpers import N_FILES, counts, mails_per_recipient_subject

from pipeline.collect import collect
from pipeline.init import init_workspace
from pipeline.remind import remind
from thidua.settings import REPO_CONFIG
from thidua.workspace import Workspace
from warehouse.db import connect

pytestmark = pytest.mark.slow
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
