"""A submission is its file and its envelope (issue 23, item 1): a file refused for who
sent it or when is examined again when it comes under another envelope; a resend of an
accepted file is answered once.  Real DuckDB, real SMTP (aiosmtpd), real IMAP (pymap)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from helpers import SmtpRecorder, drop, free_port, rows
from mails import unit_mail

from apps import synthetic
from pipeline.collect import collect
from thidua.calendar import format_day_vi
from thidua.workspace import Workspace

VN = timezone(timedelta(hours=7))
DEC15 = datetime(2025, 12, 15, 9, 0, tzinfo=VN)  # nam-2025 is open, on time
PERSONAL = "nguyen.van.a@gmail.example"


def _book(cfg, code: str = "CQ-VP") -> bytes:
    return synthetic.workbook(cfg, cfg.unit(code), cfg.cycle("nam-2025"))


def _outcomes(ws: Workspace) -> list[tuple]:
    return rows(ws, "SELECT unit_code, outcome FROM submissions ORDER BY received_at")


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _to(smtp, address: str) -> list:
    return [r.message for r in smtp.received if address in r.rcpt_tos]


def test_refused_sender_then_registered_address_is_loaded_and_acknowledged(
    workspace, smtp_env, cfg
):
    ws, unit, book = Workspace.from_env(), cfg.unit("CQ-VP"), _book(cfg)
    drop(ws.paths.inbox, "a.eml", unit_mail(PERSONAL, [("bc.xlsx", book)], DEC15), DEC15)
    first = collect(ws, docs=False)
    assert [f["outcome"] for f in first.files()] == ["rejected"]
    later = DEC15 + timedelta(hours=1)
    drop(ws.paths.inbox, "b.eml", unit_mail(unit.email, [("bc.xlsx", book)], later), later)
    second = collect(ws, docs=False)
    assert [(f["unit"], f["outcome"]) for f in second.files()] == [("CQ-VP", "accepted")]
    assert _outcomes(ws) == [("CQ-VP", "rejected"), ("CQ-VP", "accepted")]
    [ack] = [m for m in _to(smtp_env, unit.email) if "ĐÃ TIẾP NHẬN" in _text(m)]
    assert "bc.xlsx" in _text(ack)
    # a rerun loads nothing twice
    assert collect(ws, docs=False).loaded == 0


def test_sent_before_the_cycle_opens_then_after_it_is_loaded(workspace, smtp_env, cfg):
    ws, unit, book = Workspace.from_env(), cfg.unit("CQ-VP"), _book(cfg)
    cycle = cfg.cycle("nam-2025")
    opens = cfg.calendar.opening_day(cycle.due, cycle.opens)
    early = datetime.combine(opens - timedelta(days=3), datetime.min.time(), VN)
    drop(ws.paths.inbox, "nam-2025_CQ-VP.xlsx", book, early + timedelta(hours=9))
    assert [f["outcome"] for f in collect(ws, docs=False).files()] == ["rejected"]
    [(message, fix)] = rows(
        ws, "SELECT message_vi, fix_vi FROM validation_results WHERE rule_id = 'cycle_not_open'"
    )
    assert format_day_vi(opens) in message and "không cần sửa" in fix
    [notice] = _to(smtp_env, unit.email)
    assert format_day_vi(opens) in _text(notice)
    drop(ws.paths.inbox, "nam-2025_CQ-VP.xlsx", book, DEC15)
    assert [f["outcome"] for f in collect(ws, docs=False).files()] == ["accepted"]
    assert _outcomes(ws) == [("CQ-VP", "rejected"), ("CQ-VP", "accepted")]


def test_one_imap_batch_files_each_mail_by_its_own_verdict(workspace, imap_env, smtp_env, cfg):
    ws, unit, book = Workspace.from_env(), cfg.unit("CQ-VP"), _book(cfg)
    personal = unit_mail(PERSONAL, [("ca-nhan.xlsx", book)], DEC15)
    registered = unit_mail(unit.email, [("don-vi.xlsx", book)], DEC15)
    imap_env.append([personal, registered])
    done = collect(ws, docs=False)
    by_file = {f["file"]: f["outcome"] for f in done.files()}
    assert by_file == {"ca-nhan.xlsx": "rejected", "don-vi.xlsx": "accepted_with_warnings"}
    assert len(imap_env.uids("Cần kiểm tra")) == 1 and len(imap_env.uids("Đã xử lý")) == 1
    [quarantined] = done.mail["quarantined"]
    assert quarantined["sender"] == PERSONAL
    [alert] = _to(smtp_env, cfg.settings.admin.email)
    text = _text(alert)
    assert PERSONAL in text and unit.email not in text
    texts = [_text(m) for m in _to(smtp_env, unit.email)]
    assert any("don-vi.xlsx" in t and "ĐÃ TIẾP NHẬN" in t for t in texts)
    assert PERSONAL not in [to for r in smtp_env.received for to in r.rcpt_tos]


def test_a_resend_of_an_accepted_file_is_answered_once(workspace, smtp_env, cfg):
    ws, unit, book = Workspace.from_env(), cfg.unit("CQ-VP"), _book(cfg)
    drop(ws.paths.inbox, "nam-2025_CQ-VP.xlsx", book, DEC15)
    collect(ws, docs=False)
    again = DEC15 + timedelta(days=1)
    drop(ws.paths.inbox, "gui-lai.xlsx", book, again)
    done = collect(ws, docs=False)
    assert [(f["file"], f["outcome"]) for f in done.files()] == [("gui-lai.xlsx", "duplicate")]
    [notice] = [m for m in _to(smtp_env, unit.email) if "gui-lai.xlsx" in m["Subject"]]
    text = _text(notice)
    assert "đã nhận trước đó, lúc 9 giờ 00 ngày 15/12/2025" in text and "không cần gửi lại" in text
    # the same mail again (a rerun) is not answered twice, nor loaded
    collect(ws, docs=False)
    assert len([m for m in _to(smtp_env, unit.email) if "gui-lai.xlsx" in m["Subject"]]) == 1
    assert _outcomes(ws) == [("CQ-VP", "accepted")]


def test_a_resend_answer_that_failed_is_sent_by_the_next_collection_once(
    workspace, monkeypatch, cfg
):
    """The SMTP server is down while the resend comes in: its answer is logged failed,
    owed, and goes out on the next collection though that batch holds no resend; then
    never again (issue 24)."""
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder("127.0.0.1", free_port())  # not listening yet
    monkeypatch.setenv("THIDUA_SMTP_HOST", recorder.host)
    monkeypatch.setenv("THIDUA_SMTP_PORT", str(recorder.port))
    monkeypatch.setenv("THIDUA_SMTP_RETRY_DELAYS", "0")
    ws, unit, book = Workspace.from_env(), cfg.unit("CQ-VP"), _book(cfg)
    drop(ws.paths.inbox, "nam-2025_CQ-VP.xlsx", book, DEC15)
    collect(ws, docs=False)
    drop(ws.paths.inbox, "gui-lai.xlsx", book, DEC15 + timedelta(days=1))
    assert [f["outcome"] for f in collect(ws, docs=False).files()] == ["duplicate"]
    assert rows(ws, "SELECT status, attempts FROM resend_notices") == [("failed", 1)]
    controller = Controller(recorder, hostname=recorder.host, port=recorder.port)
    controller.start()
    try:
        assert collect(ws, docs=False).files() == []  # nothing new came in
        assert len(_resent_to(recorder, unit.email)) == 1
        collect(ws, docs=False)
    finally:
        controller.stop()
    [notice] = _resent_to(recorder, unit.email)
    text = _text(notice)
    assert "gui-lai.xlsx" in text and "lúc 9 giờ 00 ngày 16/12/2025" in text
    assert "đã nhận trước đó, lúc 9 giờ 00 ngày 15/12/2025" in text
    assert rows(ws, "SELECT status, attempts FROM resend_notices") == [("sent", 2)]
    assert _outcomes(ws) == [("CQ-VP", "accepted")]


def test_a_resend_answer_that_keeps_failing_is_named_to_the_admin_once(workspace, smtp_env, cfg):
    """The unit's address refuses mail after its report was accepted: the answer to its
    resend fails on every run, and once tried `[smtp] alert_after` times (3) the admin is
    told, once, as of a failing acknowledgment or reminder."""
    ws, unit, book = Workspace.from_env(), cfg.unit("CQ-VP"), _book(cfg)
    admin = cfg.settings.admin.email
    drop(ws.paths.inbox, "nam-2025_CQ-VP.xlsx", book, DEC15)
    collect(ws, docs=False)
    smtp_env.refuse.add(unit.email)
    drop(ws.paths.inbox, "gui-lai.xlsx", book, DEC15 + timedelta(days=1))
    for _ in range(4):  # the notice's attempts 1-3 alert once; the 4th run says nothing
        collect(ws, docs=False)
    [alert] = _to(smtp_env, admin)
    text = _text(alert)
    assert "1. Thư trả lời tệp gửi lại – đơn vị CQ-VP, kỳ nam-2025" in text
    assert f"Gửi tới: {unit.email}; số lần thử: 3" in text
    assert rows(ws, "SELECT status, attempts, alerted_at IS NOT NULL FROM resend_notices") == [
        ("failed", 4, True)
    ]


def test_a_run_dying_mid_answers_leaves_the_rest_owed_never_repeated(
    workspace, smtp_env, monkeypatch, cfg
):
    """Two resends in one batch; the run dies before the second answer: the first is
    logged sent, the second stays owed and the next run sends it, each once."""
    import thidua.acknowledge

    ws = Workspace.from_env()
    books = {code: _book(cfg, code) for code in ("CQ-VP", "CQ-YT")}
    for code, book in books.items():
        drop(ws.paths.inbox, f"nam-2025_{code}.xlsx", book, DEC15)
    collect(ws, docs=False)
    for n, book in enumerate(books.values(), start=1):
        drop(ws.paths.inbox, f"gui-lai-{n}.xlsx", book, DEC15 + timedelta(days=1, hours=n))
    real, calls = thidua.acknowledge.resend_email, []

    def dies_on_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(thidua.acknowledge, "resend_email", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        collect(ws, docs=False)
    assert rows(ws, "SELECT status, attempts FROM resend_notices ORDER BY 1") == [
        ("owed", 0),
        ("sent", 1),
    ]
    monkeypatch.undo()
    collect(ws, docs=False)
    collect(ws, docs=False)
    answered = [r.message["Subject"].rsplit(": ", 1)[-1] for r in smtp_env.received]
    assert sorted(a for a in answered if a.startswith("gui-lai")) == [
        "gui-lai-1.xlsx",
        "gui-lai-2.xlsx",
    ]
    assert rows(ws, "SELECT status, attempts FROM resend_notices") == [("sent", 1)] * 2


def test_a_run_dying_in_the_acknowledgments_still_answers_its_resend(
    workspace, smtp_env, monkeypatch, cfg
):
    """A batch of a new file and a resend; the run dies while acknowledging the new
    file, after the inbox was tidied: the resend is answered all the same, once."""
    import thidua.acknowledge

    ws, book = Workspace.from_env(), _book(cfg)
    drop(ws.paths.inbox, "nam-2025_CQ-VP.xlsx", book, DEC15)
    collect(ws, docs=False)
    drop(ws.paths.inbox, "gui-lai.xlsx", book, DEC15 + timedelta(days=1))
    drop(ws.paths.inbox, "nam-2025_CQ-YT.xlsx", _book(cfg, "CQ-YT"), DEC15)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(thidua.acknowledge, "ack_email", killed)
    with pytest.raises(KeyboardInterrupt):
        collect(ws, docs=False)
    assert not list(ws.paths.inbox.iterdir())
    monkeypatch.undo()
    collect(ws, docs=False)
    assert len(_resent_to(smtp_env, cfg.unit("CQ-VP").email)) == 1
    assert rows(ws, "SELECT status, attempts FROM resend_notices") == [("sent", 1)]


def _resent_to(smtp, address: str) -> list:
    return [m for m in _to(smtp, address) if "gui-lai.xlsx" in m["Subject"]]


def test_the_officers_alert_stays_in_the_inbox(workspace, imap_env, smtp_env, cfg):
    """In the shipped config the officer's address is the mailbox: the alert comes
    back into the INBOX and is left there for the officer, never filed away."""
    ws = Workspace.from_env()
    imap_env.append([unit_mail(PERSONAL, [("bc.xlsx", _book(cfg))], DEC15)])
    collect(ws, docs=False)
    [alert] = [r for r in smtp_env.received if cfg.settings.admin.email in r.rcpt_tos]
    imap_env.append([alert.data])  # delivered to the mailbox it was sent to
    done = collect(ws, docs=False)
    assert done.mail["processed"] == 0 and not done.mail["quarantined"]
    assert len(imap_env.uids("INBOX")) == 1 and not imap_env.uids("Đã xử lý")
    assert rows(ws, "SELECT kind, verdict, folder FROM mail_messages WHERE kind = 'alert'") == [
        ("alert", "kept", "INBOX")
    ]
