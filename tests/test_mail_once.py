"""Nothing is mailed twice, nothing is dropped: every acknowledgment and reminder is
logged right after its SMTP transaction, and failed ones are retried, never given up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import thidua.acknowledge
from pipeline.collect import acknowledge, collect
from pipeline.remind import remind
from thidua import synthetic
from thidua.workspace import Workspace
from warehouse.db import connect

pytestmark = pytest.mark.slow
VN = timezone(timedelta(hours=7))


def rows(ws, sql):
    with connect(ws.paths.warehouse, read_only=True) as con:
        return con.execute(sql).fetchall()


def crash_on(n: int, monkeypatch) -> None:
    """The process dies (as far as the run can tell) while rendering the n-th message."""
    real, calls = thidua.acknowledge.ack_email, []

    def render(*args):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt("killed")
        return real(*args)
    monkeypatch.setattr(thidua.acknowledge, "ack_email", render)


def test_a_crash_mid_batch_resends_nothing_already_sent(workspace, smtp_env, monkeypatch):
    ws = Workspace.from_env()                     # resolved with smtp_env's server
    cfg = ws.config
    units = cfg.expected_units(cfg.cycle("nam-2025"))[:6]
    synthetic.drop_into_inbox(ws, cfg.cycle("nam-2025"), units,
                              datetime(2025, 12, 15, 10, tzinfo=VN))
    crash_on(4, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        collect(ws, docs=False)
    assert len(smtp_env.received) == 3
    assert rows(ws, "SELECT status, count(*) FROM acknowledgments GROUP BY 1") == [("sent", 3)]

    monkeypatch.undo()                            # the rerun is not interrupted
    acknowledge(ws)
    got = sorted(r.rcpt_tos[0] for r in smtp_env.received)
    assert got == sorted(u.email for u in units)  # each unit once, none twice
    assert rows(ws, "SELECT status, count(*) FROM acknowledgments GROUP BY 1") == [("sent", 6)]


def test_failed_mail_is_retried_with_backoff_and_never_dropped(workspace, smtp_env):
    ws = Workspace.from_env()
    cfg = ws.config
    unit = cfg.unit("CQ-VP")
    synthetic.drop_into_inbox(ws, cfg.cycle("nam-2025"), [unit],
                              datetime(2025, 12, 15, 10, tzinfo=VN))
    smtp_env.refuse.add(unit.email)
    collect(ws, docs=False)
    for _ in range(4):
        acknowledge(ws)                           # attempts 2, 3, then backing off
    assert rows(ws, "SELECT status, attempts FROM acknowledgments") == [("failed", 3)]
    with connect(ws.paths.warehouse) as con:      # as if the backoff hour has passed
        con.execute("UPDATE acknowledgments SET last_attempt_at = now() - INTERVAL 2 HOUR")
    smtp_env.refuse.clear()
    acknowledge(ws)
    assert rows(ws, "SELECT status, attempts FROM acknowledgments") == [("sent", 4)]
    assert [r.rcpt_tos for r in smtp_env.received] == [[unit.email]]


def test_each_reminder_is_logged_as_it_is_sent(workspace, smtp_env, monkeypatch):
    import thidua.reminders

    ws = Workspace.from_env()
    real, calls = thidua.reminders.reminder_email, []

    def render(*args):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt("killed")
        return real(*args)
    monkeypatch.setattr(thidua.reminders, "reminder_email", render)
    with pytest.raises(KeyboardInterrupt):
        remind(ws, datetime(2025, 12, 11).date())             # t7: 39 units
    assert rows(ws, "SELECT status, count(*) FROM reminders GROUP BY 1") == [("sent", 4)]
    monkeypatch.undo()
    remind(ws, datetime(2025, 12, 11).date())
    assert len(smtp_env.received) == 39
    assert len({r.rcpt_tos[0] for r in smtp_env.received}) == 39
