"""The mailbox collection against a real mail server, Debian's Dovecot (issue 23, item
6): started by the test on loopback with a Maildir, mail delivered by `dovecot-lda` as
the commune's MTA does and by IMAP APPEND, filed by MOVE, the INBOX recreated under a
new UIDVALIDITY between two collects.  Acknowledgments over real SMTP (aiosmtpd), the
counts from the real DuckDB.  The same code path as the pymap tests."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from helpers import rows
from mails import unit_mail

from apps import synthetic
from pipeline.collect import collect
from thidua.workspace import Workspace

VN = timezone(timedelta(hours=7))
DEC15 = datetime(2025, 12, 15, 9, 0, tzinfo=VN)
PROCESSED, QUARANTINE = "Đã xử lý", "Cần kiểm tra"
FORGER = "ke.gia.mao@gmail.example"
ODS = b"PK\x03\x04" + b"\0" * 26 + b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"


def _mail(cfg, code: str, sender: str | None = None) -> bytes:
    """A unit's nam-2025 workbook, from its registered address unless `sender`."""
    unit = cfg.unit(code)
    book = synthetic.workbook(cfg, unit, cfg.cycle("nam-2025"))
    return unit_mail(sender or unit.email, [(f"nam-2025_{code}.xlsx", book)], DEC15)


def _answers(smtp) -> Counter:
    """How many messages thidua sent to each address."""
    return Counter(to for r in smtp.received for to in r.rcpt_tos)


def _text(smtp, to: str) -> str:
    [message] = [r.message for r in smtp.received if to in r.rcpt_tos]
    return message.get_body(("plain",)).get_content()


@pytest.mark.slow
def test_collect_against_dovecot(workspace, dovecot, smtp_env, cfg):
    ws = Workspace.from_env()  # after the fixtures: as a run resolves them
    vp, yt, hcc, tx = (cfg.unit(c) for c in ("CQ-VP", "CQ-YT", "CQ-HCC", "TX-01"))
    admin = cfg.settings.admin.email
    by_lda, by_append = _mail(cfg, "CQ-VP"), _mail(cfg, "CQ-YT")
    dovecot.deliver(by_lda)
    dovecot.deliver(_mail(cfg, "TX-01", sender=FORGER))
    dovecot.deliver(unit_mail(hcc.email, [("bao-cao.ods", ODS)], DEC15))
    dovecot.append([by_append])

    first = collect(ws, docs=False)
    assert (first.mail["fetched"], first.mail["taken"], first.loaded) == (4, 4, 4)
    assert len(dovecot.uids(PROCESSED)) == 2 and len(dovecot.uids(QUARANTINE)) == 2
    assert dovecot.uids("INBOX") == []
    # Dovecot announces MOVE after login, and the filing used it: no flag-and-expunge
    commands = dovecot.commands()
    assert commands.count("UID MOVE") == 2
    assert not {"UID STORE", "STORE", "EXPUNGE", "UID EXPUNGE"} & set(commands)
    assert _answers(smtp_env) == {vp.email: 1, yt.email: 1, hcc.email: 1, tx.email: 1, admin: 1}
    assert "bao-cao.ods" in _text(smtp_env, hcc.email)
    assert "không nhận tệp định dạng .ods" in _text(smtp_env, hcc.email)
    assert FORGER in _text(smtp_env, admin) and FORGER not in _answers(smtp_env)
    assert rows(ws, "SELECT verdict, count(*) FROM mail_messages GROUP BY ALL ORDER BY 1") == [
        ("processed", 2),
        ("quarantined", 2),
    ]
    [(old_validity,)] = rows(ws, "SELECT DISTINCT uidvalidity FROM mail_messages")

    # the INBOX is recreated from a backup: a new UIDVALIDITY, numbered from 1 again; a
    # new mail takes UID 1 (an old UID already taken), then the two loaded mails come
    # back, and the officer's alert, delivered to the mailbox it was sent to
    dovecot.recreate("INBOX")
    [alert] = [r.data for r in smtp_env.received if admin in r.rcpt_tos]
    for raw in (_mail(cfg, "CQ-CA"), by_lda, by_append, alert):
        dovecot.deliver(raw)
    second = collect(ws, docs=False)
    assert (second.mail["fetched"], second.mail["taken"], second.mail["repeats"]) == (4, 1, 2)
    assert second.loaded == 1 and second.mail["processed"] == 3  # the repeats filed too
    new_validity = rows(ws, "SELECT max(uidvalidity) FROM mail_messages")[0][0]
    assert new_validity != old_validity
    assert rows(
        ws, "SELECT uid, kind FROM mail_messages WHERE uidvalidity = ? AND uid = 1", [new_validity]
    ) == [(1, "mail")]
    # nothing lost, nothing answered twice; the alert stays for the officer
    assert rows(ws, "SELECT coalesce(unit_code, '-'), outcome FROM submissions ORDER BY ALL") == [
        ("-", "unreadable"),  # the .ods
        ("CQ-CA", "accepted_with_warnings"),  # late: the server received it now
        ("CQ-VP", "accepted_with_warnings"),
        ("CQ-YT", "accepted_with_warnings"),
        ("TX-01", "rejected"),  # the forger's
    ]
    assert _answers(smtp_env) == {
        vp.email: 1,
        yt.email: 1,
        hcc.email: 1,
        tx.email: 1,
        admin: 1,
        cfg.unit("CQ-CA").email: 1,
    }
    assert len(dovecot.uids("INBOX")) == 1 and len(dovecot.uids(PROCESSED)) == 5
    assert collect(ws, docs=False).mail["fetched"] == 0


# What Dovecot announces after login, less MOVE (RFC 6851), with or without UIDPLUS
WITHOUT_MOVE = "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dovecot", "expunge", "left_in_inbox"),
    [(f"{WITHOUT_MOVE} UIDPLUS", "UID EXPUNGE", 1), (WITHOUT_MOVE, "EXPUNGE", 0)],
    indirect=["dovecot"],
    ids=["uidplus", "neither"],
)
def test_filing_without_move_expunges_only_what_it_filed(dovecot, expunge, left_in_inbox):
    """Another client (the officer's) marked a message deleted and has not expunged it:
    filing by COPY expunges by UID where the server has UIDPLUS (RFC 4315), so that
    message stays; only a server with neither MOVE nor UIDPLUS loses it (issue 24)."""
    from thidua.mailbox import ImapSettings, open_mailbox

    for n in (1, 2):
        dovecot.deliver(f"From: don-vi@example.vn\r\nSubject: thu {n}\r\n\r\nthu {n}\r\n".encode())
    with dovecot.client() as officer:
        officer.folder.set("INBOX")
        first, deleted = officer.uids("ALL")
        officer.client.uid("STORE", deleted, "+FLAGS", r"(\Deleted)")  # no EXPUNGE yet
    settings = ImapSettings(dovecot.host, dovecot.port, "none", dovecot.user, dovecot.password)
    with open_mailbox(settings) as mb:
        assert mb.move([int(first)], PROCESSED) == 1
    assert len(dovecot.uids(PROCESSED)) == 1
    assert dovecot.uids("INBOX") == [deleted][:left_in_inbox]
    commands = dovecot.commands()
    assert expunge in commands and "UID MOVE" not in commands
    assert ({"UID EXPUNGE", "EXPUNGE"} - {expunge}).isdisjoint(commands)
