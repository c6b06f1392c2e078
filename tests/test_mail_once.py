"""Nothing is mailed twice, nothing is dropped: every acknowledgment and reminder is
logged right after its SMTP transaction, and failed ones are retried, never given up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from helpers import SmtpRecorder, free_port, rows

import thidua.acknowledge
from apps import synthetic
from pipeline.collect import acknowledge, collect
from pipeline.remind import remind
from thidua.workspace import Workspace
from warehouse.db import connect

pytestmark = pytest.mark.slow
VN = timezone(timedelta(hours=7))


def crash_on(n: int, monkeypatch) -> None:
    """The process dies (as far as the run can tell) while rendering the n-th message."""
    real, calls = thidua.acknowledge.ack_email, []

    def render(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(thidua.acknowledge, "ack_email", render)


def test_a_crash_mid_batch_resends_nothing_already_sent(workspace, smtp_env, monkeypatch):
    ws = Workspace.from_env()  # resolved with smtp_env's server
    cfg = ws.config
    units = cfg.expected_units(cfg.cycle("nam-2025"))[:6]
    synthetic.drop_into_inbox(
        ws, cfg.cycle("nam-2025"), units, datetime(2025, 12, 15, 10, tzinfo=VN)
    )
    crash_on(4, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        collect(ws, docs=False)
    assert len(smtp_env.received) == 3
    assert rows(ws, "SELECT status, count(*) FROM acknowledgments GROUP BY 1") == [("sent", 3)]

    monkeypatch.undo()  # the rerun is not interrupted
    acknowledge(ws)
    got = sorted(r.rcpt_tos[0] for r in smtp_env.received)
    assert got == sorted(u.email for u in units)  # each unit once, none twice
    assert rows(ws, "SELECT status, count(*) FROM acknowledgments GROUP BY 1") == [("sent", 6)]


def test_failed_mail_is_retried_with_backoff_and_never_dropped(workspace, smtp_env):
    ws = Workspace.from_env()
    cfg = ws.config
    unit = cfg.unit("CQ-VP")
    synthetic.drop_into_inbox(
        ws, cfg.cycle("nam-2025"), [unit], datetime(2025, 12, 15, 10, tzinfo=VN)
    )
    smtp_env.refuse.add(unit.email)
    collect(ws, docs=False)
    for _ in range(7):
        acknowledge(ws)  # attempts 2 … 6, then backing off
    assert rows(ws, "SELECT status, attempts FROM acknowledgments") == [("failed", 6)]
    with connect(ws.paths.warehouse) as con:  # as if the backoff hour has passed
        con.execute("UPDATE acknowledgments SET last_attempt_at = now() - INTERVAL 2 HOUR")
    smtp_env.refuse.clear()
    acknowledge(ws)
    assert rows(ws, "SELECT status, attempts FROM acknowledgments") == [("sent", 7)]
    assert [r.rcpt_tos for r in smtp_env.received] == [[unit.email]]


def test_each_reminder_is_logged_as_it_is_sent(workspace, smtp_env, monkeypatch):
    import thidua.reminders

    ws = Workspace.from_env()
    real, calls = thidua.reminders.reminder_email, []

    def render(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(thidua.reminders, "reminder_email", render)
    with pytest.raises(KeyboardInterrupt):
        remind(ws, datetime(2025, 12, 11).date())  # t7: 39 units
    assert rows(ws, "SELECT status, count(*) FROM reminders GROUP BY 1") == [("sent", 4)]
    monkeypatch.undo()
    remind(ws, datetime(2025, 12, 11).date())
    assert len(smtp_env.received) == 39
    assert len({r.rcpt_tos[0] for r in smtp_env.received}) == 39


def test_smtp_outage_then_every_acknowledgment_once_and_the_admin_alerted(workspace, monkeypatch):
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder("127.0.0.1", free_port())  # not listening yet
    monkeypatch.setenv("THIDUA_SMTP_HOST", recorder.host)
    monkeypatch.setenv("THIDUA_SMTP_PORT", str(recorder.port))
    monkeypatch.setenv("THIDUA_SMTP_RETRY_DELAYS", "0")
    ws = Workspace.from_env()
    cfg = ws.config
    units = cfg.expected_units(cfg.cycle("nam-2025"))[:5]
    synthetic.drop_into_inbox(
        ws, cfg.cycle("nam-2025"), units, datetime(2025, 12, 15, 10, tzinfo=VN)
    )
    for _ in range(3):
        collect(ws, docs=False)
    assert rows(
        ws, "SELECT status, min(attempts), max(attempts) FROM acknowledgments GROUP BY 1"
    ) == [("failed", 3, 3)]
    controller = Controller(recorder, hostname=recorder.host, port=recorder.port)
    controller.start()
    try:
        collect(ws, docs=False)
        collect(ws, docs=False)  # nothing more goes out
    finally:
        controller.stop()
    alerts = [r for r in recorder.received if r.message["Subject"].startswith("[thidua]")]
    acks = [r for r in recorder.received if r not in alerts]
    assert sorted(r.rcpt_tos[0] for r in acks) == sorted(u.email for u in units)
    [alert] = alerts
    assert alert.rcpt_tos == [cfg.settings.admin.email]
    text = alert.message.get_body(("plain",)).get_content()
    assert "đã gửi" in text and all(u.code in text for u in units)
    assert rows(ws, "SELECT count(*) FROM acknowledgments WHERE alerted_at IS NULL") == [(0,)]


def test_automatic_mail_dropped_in_the_inbox_is_never_answered(workspace, smtp_env):
    """Our own acknowledgment, our own alert and an out-of-office reply, all dropped into
    the inbox: each is kept and recorded, none is answered (no mail loop)."""
    from email.message import EmailMessage

    from thidua.alerts import failure_alert
    from thidua.mailer import build_message

    ws = Workspace.from_env()
    cfg = ws.config
    unit = cfg.unit("TX-01")
    synthetic.drop_into_inbox(
        ws, cfg.cycle("nam-2025"), [unit], datetime(2025, 12, 15, 10, tzinfo=VN)
    )
    collect(ws, docs=False)  # the unit's acknowledgment goes out
    [ack] = smtp_env.received
    alert = failure_alert(
        cfg.settings,
        "collect",
        "run-1",
        "Failed",
        "lỗi",
        None,
        datetime(2025, 12, 15, 10, tzinfo=VN),
    )
    ooo = EmailMessage()
    ooo["From"], ooo["To"] = unit.email, cfg.settings.sender.email
    ooo["Subject"], ooo["Auto-Submitted"] = "Vắng mặt: Re: báo cáo", "auto-replied"
    ooo.set_content("Tôi đang nghỉ phép đến hết tuần.")
    for name, data in (
        ("ack.eml", ack.data),
        ("ooo.eml", bytes(ooo)),
        (
            "alert.eml",
            build_message(alert, cfg.settings.sender.email, cfg.settings.sender.name).as_bytes(),
        ),
    ):
        (ws.paths.inbox / name).write_bytes(data)
    done = collect(ws, docs=False)
    assert sorted((r["file"], r["outcome"]) for r in done.files()) == [
        ("ack.eml", "unreadable"),
        ("alert.eml", "unreadable"),
        ("ooo.eml", "unreadable"),
    ]
    assert len(smtp_env.received) == 1  # nothing more was mailed
    assert rows(ws, "SELECT count(*) FROM acknowledgments WHERE status = 'skipped'") == [(3,)]
