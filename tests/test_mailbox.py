"""Collection from the commune's mailbox: a real IMAP server (pymap, started by the
test on loopback), the real aiosmtpd server for what thidua sends, a real DuckDB."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pandas as pd
import pytest
from helpers import rows
from mails import AUTHSERV, passed, unit_mail
from typer.testing import CliRunner

from apps import synthetic
from pipeline.collect import collect
from pipeline.steps import call
from thidua.errors import ConfigError
from thidua.intake import attachments
from thidua.mailbox import (
    ImapConfigError,
    ImapSettings,
    authentication,
    bounces,
    classify,
    is_automatic,
)
from thidua.settings import REPO_CONFIG, resolve_settings
from thidua.workspace import Workspace
from warehouse.db import connect

VN = timezone(timedelta(hours=7))
DEC15 = datetime(2025, 12, 15, 9, 0, tzinfo=VN)  # nam-2025 is open, on time
AUG20 = datetime(2025, 8, 20, 9, 0, tzinfo=VN)  # ke-hoach-2025 is open
PROCESSED, QUARANTINE = "Đã xử lý", "Cần kiểm tra"


def report(cfg, code: str, cycle: str = "nam-2025", **kw) -> bytes:
    return synthetic.workbook(cfg, cfg.unit(code), cfg.cycle(cycle), **kw)


def mail_of(cfg, code: str, when=DEC15, **kw) -> bytes:
    unit = cfg.unit(code)
    return unit_mail(unit.email, [(f"nam-2025_{code}.xlsx", report(cfg, code))], when, **kw)


# -- settings and message reading (no server) -------------------------------------------


def imap_settings(env: dict[str, str]) -> ImapSettings:
    """The mailbox settings a run resolves from the sample config and this environment."""
    return ImapSettings.from_settings(resolve_settings(REPO_CONFIG, env))


def test_settings_defaults_and_secrets():
    s = imap_settings(
        {
            "THIDUA_IMAP_HOST": "mail.phongdoanh.example",
            "THIDUA_IMAP_USER": "vhxh",
            "THIDUA_IMAP_PASSWORD": "bi-mat",
        }
    )
    assert (s.security, s.port, s.folder, s.processed_folder, s.quarantine_folder, s.batch) == (
        "ssl",
        993,
        "INBOX",
        "Đã xử lý",
        "Cần kiểm tra",
        200,
    )
    assert "bi-mat" not in repr(s)
    assert imap_settings({}).host is None
    with pytest.raises(ConfigError) as err:
        imap_settings(
            {
                "THIDUA_IMAP_HOST": "h",
                "THIDUA_IMAP_USER": "u",
                "THIDUA_IMAP_PASSWORD": "bi-mat",
                "THIDUA_IMAP_SECURITY": "tls",
            }
        )
    assert "THIDUA_IMAP_SECURITY" in str(err.value) and "bi-mat" not in str(err.value)
    with pytest.raises(ImapConfigError):
        imap_settings({"THIDUA_IMAP_HOST": "h", "THIDUA_IMAP_USER": "u"})


def _msg(headers: dict[str, str | list[str]]) -> EmailMessage:
    msg = EmailMessage()
    for name, value in headers.items():
        for v in value if isinstance(value, list) else [value]:
            msg[name] = v
    return msg


def test_authentication_results_trusts_only_the_commune_server():
    ar = "Authentication-Results"
    frm = {"From": "Trạm Y tế <tramyte@phongdoanh.example>"}
    assert authentication(_msg(frm | {ar: passed("phongdoanh.example")}), None) is None
    assert authentication(_msg(frm | {ar: passed("phongdoanh.example")}), AUTHSERV) == "pass"
    # a forged "pass" under another authserv-id is ignored; the commune's server says fail
    forged = [
        (
            f"{AUTHSERV}; dkim=fail (bad signature) header.d=phongdoanh.example; spf=softfail "
            "smtp.mailfrom=gmail.example"
        ),
        "evil.example; dkim=pass header.d=phongdoanh.example",
    ]
    assert authentication(_msg(frm | {ar: forged}), AUTHSERV) == "dkim=fail spf=softfail"
    # a pass for another domain does not speak for the sender
    assert (
        authentication(
            _msg(frm | {ar: f"{AUTHSERV} 1; dkim=pass header.d=gmail.example"}), AUTHSERV
        )
        == "dkim=pass"
    )
    assert (
        authentication(
            _msg(frm | {ar: f"{AUTHSERV}; spf=pass smtp.mailfrom=bounce@phongdoanh.example"}),
            AUTHSERV,
        )
        == "pass"
    )
    assert authentication(_msg(frm), AUTHSERV) == "none"


def dsn(original_id: str, recipient: str, action: str = "failed") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Mail Delivery System <MAILER-DAEMON@mx.phongdoanh.example>"
    msg["To"] = "vhxh@phongdoanh.example"
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Auto-Submitted"] = "auto-replied"
    msg["Message-ID"] = make_msgid(domain="mx.phongdoanh.example")
    msg.set_content("This is the mail system. Your message could not be delivered.")
    msg.make_mixed()
    status = EmailMessage()
    status.set_content(
        "Reporting-MTA: dns; mx.phongdoanh.example\n\n"
        f"Final-Recipient: rfc822; {recipient}\nOriginal-Recipient: rfc822;{recipient}\n"
        f"Action: {action}\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <x>: Recipient address rejected: User unknown\n"
    )
    raw = msg.as_string()
    head, _, _ = raw.partition("\n\n")
    boundary = "dsn-boundary-1"
    body = (
        f"--{boundary}\nContent-Type: text/plain\n\nYour message could not be "
        f"delivered.\n\n--{boundary}\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; mx.phongdoanh.example\n\nFinal-Recipient: rfc822; "
        f"{recipient}\nAction: {action}\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 "
        f"User unknown\n\n--{boundary}\nContent-Type: text/rfc822-headers\n\n"
        f"From: vhxh@phongdoanh.example\nTo: {recipient}\nMessage-ID: {original_id}\n"
        f"Subject: nhac han\n\n--{boundary}--\n"
    )
    head = "\n".join(
        line
        for line in head.splitlines()
        if not line.lower().startswith(
            ("content-type", "mime-version", "content-transfer-encoding")
        )
        and not line.startswith((" ", "\t"))
    )
    return (
        f"{head}\nMIME-Version: 1.0\nContent-Type: multipart/report; "
        f'report-type=delivery-status; boundary="{boundary}"\n\n{body}'
    ).encode()


def test_bounce_reading():
    raw = dsn("<r1@phongdoanh.example>", "vanphong@phongdoanh.example")
    msg = message_from_bytes(raw, policy=policy.compat32)
    [b] = bounces(msg)
    assert (b.original_message_id, b.recipient, b.status) == (
        "<r1@phongdoanh.example>",
        "vanphong@phongdoanh.example",
        "5.1.1",
    )
    assert bounces(message_from_bytes(dsn("<r1@x>", "a@b.example", "delayed"))) == []
    assert is_automatic(msg)
    assert not is_automatic(message_from_bytes(b"From: a@b.example\n\nhi"))


def test_classify_sorts_each_message_from_one_parse():
    """A unit's mail, a bounce with its failed recipient, an auto-reply and bytes no
    parser makes sense of (left to the take-in, which answers them unreadable)."""
    mail = unit_mail("CQ-VP <VanPhong@phongdoanh.example>", [], DEC15, subject="Báo  cáo  năm")
    got = classify(mail)
    assert (got.kind, got.sender, got.subject) == (
        "mail",
        "vanphong@phongdoanh.example",
        "Báo cáo năm",
    )
    assert got.sha256 == hashlib.sha256(mail).hexdigest() and got.message_id.startswith("<")
    bounce = classify(dsn("<r1@phongdoanh.example>", "vanphong@phongdoanh.example"))
    assert bounce.kind == "dsn"
    assert [(b.original_message_id, b.recipient) for b in bounce.bounces] == [
        ("<r1@phongdoanh.example>", "vanphong@phongdoanh.example")
    ]
    assert classify(b"Auto-Submitted: auto-replied\r\n" + mail).kind == "auto"
    assert classify(b"\xff\xfe\x00garbage").kind == "mail"


def test_attachments_as_people_send_them(cfg):
    wb = report(cfg, "CQ-VP")
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "vanphong@phongdoanh.example", "Báo cáo"
    inner.set_content("gửi anh")
    inner.add_attachment(
        wb, maintype="application", subtype="octet-stream", filename="bao-cao.xlsx"
    )
    outer = EmailMessage()
    outer["From"], outer["Subject"] = "truong.vanphong@phongdoanh.example", "Fwd: Báo cáo"
    outer.set_content("Chuyển tiếp")
    outer.add_related(b"\x89PNG logo", maintype="image", subtype="png", cid="<logo@x>")
    outer.add_attachment(inner)  # forwarded as message/rfc822
    outer.add_attachment(
        b"%PDF-1.4 ke hoach", maintype="application", subtype="pdf", filename="ke-hoach.pdf"
    )
    outer.add_attachment(
        b"\x78\x9f\x3e\x22", maintype="application", subtype="ms-tnef", filename="winmail.dat"
    )
    outer.add_attachment(
        b"PK\x03\x04", maintype="application", subtype="zip", filename="bao-cao.zip"
    )
    found = [(kind, name) for kind, name, _ in attachments(outer)]
    assert found == [
        ("submission", "bao-cao.xlsx"),
        ("document", "ke-hoach.pdf"),
        ("winmail", "winmail.dat"),
        ("archive", "bao-cao.zip"),
    ]


# -- against the IMAP server ------------------------------------------------------------


def outgoing(smtp) -> list:
    return [r.message for r in smtp.received]


@pytest.mark.slow
def test_each_message_taken_once_and_acknowledged_in_its_thread(workspace, imap_env, smtp_env, cfg):
    ws = Workspace.from_env()  # after imap_env and smtp_env: as a run resolves them
    codes = ("CQ-VP", "CQ-YT", "TX-01")
    sent = {c: mail_of(cfg, c, subject=f"Báo cáo năm 2025 – {c}") for c in codes}
    imap_env.append(list(sent.values()))
    late = mail_of(cfg, "CQ-HCC")

    def appending_runner(step, /, *args):  # a message arrives while the run goes on
        out = call(step, *args)
        if step.__name__ == "fetch_mail":
            imap_env.append([late])
        return out

    first = collect(ws, docs=False, run=appending_runner)
    assert first.mail["fetched"] == first.mail["taken"] == 3 and first.loaded == 3
    assert first.mail["processed"] == 3 and first.mail["quarantined"] == []
    assert len(imap_env.uids(PROCESSED)) == 3 and len(imap_env.uids("INBOX")) == 1
    assert rows(
        ws,
        "SELECT count(*), count(DISTINCT uid) FROM mail_messages "
        "WHERE kind = 'mail' AND verdict = 'processed'",
    ) == [(3, 3)]
    assert list(ws.paths.inbox.iterdir()) == []

    # the acknowledgment is a reply in the unit's thread
    acks = {m["To"]: m for m in outgoing(smtp_env)}
    for code, raw in sent.items():
        theirs = message_from_bytes(raw, policy=policy.default)
        ack = acks[cfg.unit(code).email]
        assert ack["In-Reply-To"] == theirs["Message-ID"] == ack["References"]
        assert ack["Subject"] == f"Re: Báo cáo năm 2025 – {code}"
        assert ack["Auto-Submitted"] == "auto-replied"
    assert rows(
        ws,
        "SELECT count(*) FROM files WHERE source = 'mailbox' AND "
        "message_id IS NOT NULL AND subject LIKE 'Báo cáo%'",
    ) == [(6,)]

    second = collect(ws, docs=False)
    assert second.mail["fetched"] == 1 and second.loaded == 1  # only the late one
    assert rows(ws, "SELECT unit_code FROM submissions ORDER BY loaded_at DESC LIMIT 1") == [
        ("CQ-HCC",)
    ]
    third = collect(ws, docs=False)
    assert third.mail["fetched"] == 0 and third.loaded == 0
    assert imap_env.uids("INBOX") == [] and len(imap_env.uids(PROCESSED)) == 4
    assert len(smtp_env.received) == 4


def test_a_message_another_client_deleted_is_not_taken(workspace, imap_env, cfg):
    """The officer deleted a message in their mail client, which has not expunged it
    yet: it is not fetched, nor filed, nor answered; the others are."""
    ws = Workspace.from_env()
    imap_env.append([mail_of(cfg, "CQ-VP"), mail_of(cfg, "CQ-YT")])
    with imap_env.client() as officer:
        officer.folder.set("INBOX")
        kept, deleted = officer.uids("ALL")
        officer.client.uid("STORE", deleted, "+FLAGS", r"(\Deleted)")  # no EXPUNGE
    done = collect(ws, docs=False)
    assert (done.mail["fetched"], done.loaded) == (1, 1)
    assert rows(ws, "SELECT unit_code FROM submissions") == [("CQ-VP",)]
    assert rows(ws, "SELECT uid FROM mail_messages") == [(int(kept),)]
    assert imap_env.uids("INBOX") == [deleted] and len(imap_env.uids(PROCESSED)) == 1


@pytest.mark.slow
def test_uidvalidity_reset_takes_nothing_twice(workspace, imap_env, monkeypatch, cfg):
    folder = "Báo cáo đơn vị"
    monkeypatch.setenv("THIDUA_IMAP_FOLDER", folder)
    ws = Workspace.from_env()  # a run resolves its settings at its start
    first = [mail_of(cfg, "CQ-VP"), mail_of(cfg, "CQ-YT")]
    imap_env.append(first, folder)
    assert collect(ws, docs=False).loaded == 2
    old = rows(ws, "SELECT DISTINCT uidvalidity FROM mail_messages")

    # the folder is recreated (a restore from backup): a new UIDVALIDITY, the same mail
    imap_env.recreate(folder)
    imap_env.append([*first, mail_of(cfg, "TX-01")], folder)
    done = collect(ws, docs=False)
    assert (done.mail["fetched"], done.mail["taken"], done.mail["repeats"]) == (3, 1, 2)
    assert done.loaded == 1
    assert rows(ws, "SELECT count(*), count(DISTINCT submission_id) FROM submissions") == [(3, 3)]
    assert rows(ws, "SELECT count(DISTINCT uidvalidity) FROM mail_messages") == [(2,)]
    assert old != rows(ws, "SELECT max(uidvalidity) FROM mail_messages WHERE kind = 'repeat'")
    assert imap_env.uids(folder) == [] and len(imap_env.uids(PROCESSED)) == 5
    assert collect(ws, docs=False).mail["fetched"] == 0


@pytest.mark.slow
def test_forged_senders_are_quarantined_officer_alerted_unit_notified(
    workspace, imap_env, smtp_env, monkeypatch, cfg
):
    monkeypatch.setenv("THIDUA_IMAP_AUTHSERV_ID", AUTHSERV)
    ws = Workspace.from_env()  # a run resolves its settings at its start
    vp, yt, tx = cfg.unit("CQ-VP"), cfg.unit("CQ-YT"), cfg.unit("TX-01")
    forger = "ke.gia.mao@gmail.example"
    unregistered = unit_mail(
        forger, [("bao-cao.xlsx", report(cfg, "CQ-VP"))], DEC15, auth=[passed("gmail.example")]
    )
    dkim_fail = unit_mail(
        yt.email,
        [("bao-cao.xlsx", report(cfg, "CQ-YT"))],
        DEC15,
        auth=[
            (
                f"{AUTHSERV}; dkim=fail header.d=phongdoanh.example; spf=fail "
                "smtp.mailfrom=gmail.example"
            ),
            "evil.example; dkim=pass header.d=phongdoanh.example",
        ],
    )
    genuine = unit_mail(
        tx.email,
        [("bao-cao.xlsx", report(cfg, "TX-01"))],
        DEC15,
        auth=[passed("phongdoanh.example")],
    )
    imap_env.append([unregistered, dkim_fail, genuine])
    done = collect(ws, docs=False)

    assert len(imap_env.uids(QUARANTINE)) == 2 and len(imap_env.uids(PROCESSED)) == 1
    assert sorted(q["units"] for q in done.mail["quarantined"]) == ["CQ-VP", "CQ-YT"]
    outcomes = {r["unit"]: r["outcome"] for r in done.files()}
    # TX-01 is on its own address and verified; late only because the server received it
    # now (INTERNALDATE), never at its Date header
    assert outcomes == {"CQ-VP": "rejected", "CQ-YT": "rejected", "TX-01": "accepted_with_warnings"}
    assert rows(
        ws,
        "SELECT s.unit_code, r.rule_id FROM validation_results r JOIN "
        "submissions s USING (submission_id) WHERE r.rule_id LIKE 'sender%' "
        "ORDER BY 1",
    ) == [("CQ-VP", "sender_mismatch"), ("CQ-YT", "sender_unauthenticated")]
    by_to = {}
    for r in smtp_env.received:
        for to in r.rcpt_tos:
            by_to.setdefault(to, []).append(r.message)
    assert forger not in by_to  # never the unverified sender
    [alert] = by_to[cfg.settings.admin.email]
    text = alert.get_content()
    assert alert["Subject"] == "[thidua] Hộp thư: 2 thư cần kiểm tra"
    assert forger in text and yt.email in text and "DKIM/SPF" in text
    [notice_vp] = by_to[vp.email]
    [notice_yt] = by_to[yt.email]
    assert "không phải địa chỉ đã đăng ký" in notice_vp.get_body(("plain",)).get_content()
    assert "không xác nhận được" in notice_yt.get_body(("plain",)).get_content()
    assert notice_vp["In-Reply-To"] is None and notice_yt["In-Reply-To"] is None
    assert by_to[tx.email][0]["In-Reply-To"] is not None


@pytest.mark.slow
def test_workbook_and_plan_in_one_message_are_one_submission(workspace, imap_env, cfg):
    ws = Workspace.from_env()  # after imap_env and smtp_env: as a run resolves them
    unit = cfg.unit("CQ-HCC")
    plan_doc = b"PK\x03\x04 word/document.xml ke hoach thi dua 2025"
    raw = unit_mail(
        unit.email,
        [
            ("ke-hoach-2025_CQ-HCC.xlsx", report(cfg, "CQ-HCC", "ke-hoach-2025")),
            ("Ke hoach thi dua 2025.docx", plan_doc),
        ],
        AUG20,
    )
    imap_env.append([raw])
    done = collect(ws, docs=False)
    [sub] = done.files()
    assert (sub["unit"], sub["cycle"], sub["outcome"]) == (  # late: received now
        "CQ-HCC",
        "ke-hoach-2025",
        "accepted_with_warnings",
    )
    linked = rows(
        ws,
        "SELECT a.role, a.name, f.archived_path FROM attachments a "
        "JOIN files f USING (sha256) WHERE a.submission_id = ? ORDER BY role",
        [sub["submission_id"]],
    )
    assert [(r[0], r[1]) for r in linked] == [
        ("document", "Ke hoach thi dua 2025.docx"),
        ("workbook", "ke-hoach-2025_CQ-HCC.xlsx"),
    ]
    assert Path(linked[0][2]).read_bytes() == plan_doc
    assert rows(ws, "SELECT count(*) FROM submissions") == [(1,)]


@pytest.mark.slow
def test_bounce_marks_reminder_and_shows_in_status(workspace, imap_env, smtp_env, cfg, monkeypatch):
    from apps.cli import app
    from warehouse.writer import record_reminders

    ws = Workspace.from_env()  # after imap_env and smtp_env: as a run resolves them
    vp = cfg.unit("CQ-VP")
    mid = "<nhac-han-t7.1@phongdoanh.example>"
    with connect(ws.paths.warehouse) as con:
        record_reminders(
            con,
            pd.DataFrame(
                [
                    {
                        "unit_code": "CQ-VP",
                        "cycle_id": "nam-2025",
                        "stage": "t7",
                        "due_date": datetime(2025, 12, 22).date(),
                        "stage_date": datetime(2025, 12, 11).date(),
                        "status": "sent",
                        "sent_at": pd.Timestamp("2025-12-11 01:00", tz="UTC"),
                        "message_id": mid,
                        "recipients": vp.email,
                        "error": None,
                    }
                ]
            ),
        )
    tx = cfg.unit("TX-01")
    ooo = unit_mail(tx.email, [], DEC15, subject="Tự động trả lời: vắng mặt")
    ooo = b"Auto-Submitted: auto-replied\r\n" + ooo
    # a workbook mail over the size cap (10 kB here) is not downloaded, only answered
    monkeypatch.setenv("THIDUA_IMAP_MAX_MESSAGE_MB", "0.01")
    big = mail_of(cfg, "TX-01", subject="Báo cáo kèm ảnh")
    imap_env.append([dsn(mid, vp.email), ooo, big])
    ws = Workspace.from_env()  # the run starts now, with the smaller cap
    done = collect(ws, docs=False)
    assert (done.mail["dsn"], done.mail["auto"], done.mail["taken"]) == (1, 1, 1)
    assert rows(ws, "SELECT status, error FROM reminders") == [
        ("bounced", f"bounced: {vp.email} 5.1.1")
    ]
    # nothing answered the DSN nor the auto-reply; the officer was told
    got = {r.message["To"]: r.message for r in smtp_env.received}
    assert sorted(got) == sorted([cfg.settings.admin.email, tx.email])
    alert = got[cfg.settings.admin.email]
    assert vp.email in alert.get_content() and "CQ-VP" in alert.get_content()
    too_large = got[tx.email].get_body(("plain",)).get_content()
    assert "tệp quá lớn" in too_large and "tối đa 0,01 MB" in too_large
    assert got[tx.email]["Subject"] == "Re: Báo cáo kèm ảnh"
    assert len(imap_env.uids(PROCESSED)) == 2 and len(imap_env.uids(QUARANTINE)) == 1

    monkeypatch.setenv("THIDUA_HOME", str(ws.paths.home))
    result = CliRunner().invoke(app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    [b] = json.loads(result.stdout)["bounced"]
    assert (b["unit"], b["address"], b["answers"], b["stage"], b["status"]) == (
        "CQ-VP",
        vp.email,
        "reminder",
        "t7",
        "5.1.1",
    )
    # the bounced stage is not sent again (it counts as sent)
    from pipeline.remind import plan

    planned = plan(ws, datetime(2025, 12, 12).date())
    assert planned.set_index("unit_code").loc["CQ-VP", "skip"] == "already_sent"


@pytest.mark.slow
def test_mail_received_before_the_deadline_is_on_time_however_late_it_is_fetched(
    workspace, imap_env, cfg
):
    """The receive time is the server's INTERNALDATE, not the fetch: a mail that reached
    the commune on 15/12/2025 and is fetched a year later is on time."""
    ws = Workspace.from_env()
    tx = cfg.unit("TX-01")
    imap_env.append(
        [
            unit_mail(
                tx.email, [("bao-cao.xlsx", report(cfg, "TX-01"))], DEC15 + timedelta(days=300)
            )
        ],
        dt=DEC15,
    )
    [sub] = collect(ws, docs=False).files()
    assert (sub["unit"], sub["cycle"]) == ("TX-01", "nam-2025")
    [(received,)] = rows(
        ws, "SELECT received_at FROM submissions WHERE submission_id = ?", [sub["submission_id"]]
    )
    assert received == DEC15
    assert not rows(
        ws,
        "SELECT 1 FROM validation_results WHERE submission_id = ? AND rule_id = 'late'",
        [sub["submission_id"]],
    )
