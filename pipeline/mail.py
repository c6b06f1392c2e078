"""The commune's mailbox in the collection: fetch new mail first, file it last.

`fetch_mail` takes every message of the IMAP folder not yet recorded under the folder's
UIDVALIDITY, one FETCH per batch of UIDs, and hands each raw message to the take-in as
`inbox/imap-<sha256>.eml` (written atomically); the message is recorded in DuckDB
(`mail_messages`) by (mailbox, UIDVALIDITY, UID) once its file is on disk, so a crash
refetches at most a batch and the take-in's sha256 keys load nothing twice.  A message
whose sha256 or Message-ID was already taken from the mailbox (a recreated folder, a
copy) is a `repeat` and not taken again.  Delivery status notifications are matched to
the reminder or acknowledgment they answer and mark it bounced; auto-replies are kept
(archived) and never answered.

`file_mail`, after the load and the acknowledgments, moves each message taken in to the
processed folder, or to the quarantine folder when its sender failed verification or
nothing in it could be read; and alerts the officer (settings [admin]) of quarantined
mail and bounced addresses.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pandas as pd

from thidua.intake import TOO_LARGE_HEADER, archive, megabytes
from thidua.mailbox import (
    ImapSettings,
    bounces,
    is_automatic,
    is_dsn,
    open_mailbox,
    sender_address,
    write_eml,
)
from thidua.rules import fmt
from thidua.workspace import Workspace
from warehouse.db import connect

NO_MAIL = {"fetched": 0, "taken": 0, "repeats": 0, "dsn": 0, "auto": 0, "bounced": []}


def _header(msg, name: str) -> str | None:
    value = msg.get(name)
    return " ".join(str(value).split()) or None if value is not None else None


def fetch_mail(ws: Workspace, settings: ImapSettings | None = None) -> dict:
    """Fetch the folder's new messages into the inbox directory; record each by UID."""
    from thidua.batch import FILE_COLUMNS
    from warehouse.queries import known_uids, taken_before
    from warehouse.writer import MAIL_COLUMNS, record_bounces, record_mail

    settings = settings or ImapSettings.from_settings(ws.config.settings)
    if not settings.host:
        return dict(NO_MAIL)
    inbox, archive_dir = ws.paths.inbox, ws.paths.archive
    inbox.mkdir(parents=True, exist_ok=True)
    archive_dir.mkdir(parents=True, exist_ok=True)
    cap_mb = settings.max_message_mb
    summary = dict(NO_MAIL, bounced=[])
    headers = BytesParser(policy=policy.default)
    with open_mailbox(settings) as mb:
        with connect(ws.paths.warehouse, read_only=True) as con:
            known = known_uids(con, settings.mailbox, mb.uidvalidity)
        new = [u for u in mb.uids() if u not in known]
        for start in range(0, len(new), settings.batch):
            chunk = new[start : start + settings.batch]
            fetched = []
            for f in mb.fetch(chunk):
                raw, kind = f.raw, "mail"
                if raw is None:  # over the cap: its headers stand for it, answered
                    note = f"{megabytes(f.size)} MB, tối đa {fmt(cap_mb)} MB"
                    raw = f"{TOO_LARGE_HEADER}: {note}\r\n".encode() + f.header
                    kind = "too_large"
                fetched.append((f, raw, kind, headers.parsebytes(raw, headersonly=True)))
            shas = [hashlib.sha256(raw).hexdigest() for _, raw, _, _ in fetched]
            mids = [_header(m, "Message-ID") for *_, m in fetched]
            with connect(ws.paths.warehouse, read_only=True) as con:
                seen_shas, seen_mids = taken_before(
                    con, settings.mailbox, shas, [m for m in mids if m]
                )
            rows, files, dsn_rows = [], [], []
            now = datetime.now(UTC)
            for (f, raw, kind, msg), sha, mid in zip(fetched, shas, mids, strict=True):
                sender = sender_address(msg)
                if sha in seen_shas or (mid and mid in seen_mids):
                    kind = "repeat"
                elif kind == "mail" and (is_dsn(msg) or is_automatic(msg)):
                    kind = "dsn" if is_dsn(msg) else "auto"
                    _, path = archive(raw, archive_dir)
                    files.append(
                        (
                            sha,
                            f"{kind}-{f.uid}.eml",
                            len(raw),
                            "mailbox",
                            sender,
                            now,
                            str(path),
                            mid,
                            _header(msg, "Subject"),
                            None,
                        )
                    )
                    if kind == "dsn":
                        full = BytesParser(policy=policy.compat32).parsebytes(raw)
                        dsn_rows += [
                            (sha, b.original_message_id, b.recipient, b.status, b.diagnostic)
                            for b in bounces(full)
                            if b.original_message_id
                        ]
                else:
                    write_eml(inbox, raw, f.arrived)
                    summary["taken"] += 1
                seen_shas.add(sha)
                if mid:
                    seen_mids.add(mid)
                summary["fetched"] += 1
                summary["repeats"] += kind == "repeat"
                summary["dsn"] += kind == "dsn"
                summary["auto"] += kind == "auto"
                rows.append(
                    (
                        settings.mailbox,
                        mb.uidvalidity,
                        f.uid,
                        sha,
                        mid,
                        _header(msg, "Subject"),
                        sender,
                        f.size,
                        kind,
                    )
                )
            with connect(ws.paths.warehouse) as con:
                record_mail(
                    con,
                    pd.DataFrame(rows, columns=MAIL_COLUMNS),
                    pd.DataFrame(files, columns=FILE_COLUMNS),
                )
                found = record_bounces(
                    con,
                    pd.DataFrame(
                        dsn_rows,
                        columns=["dsn_sha256", "message_id", "recipient", "status", "diagnostic"],
                    ),
                )
            summary["bounced"] += [
                {k: (None if pd.isna(v) else v) for k, v in r.items()}
                for r in found[
                    [
                        "unit_code",
                        "recipient",
                        "answers",
                        "cycle_id",
                        "stage",
                        "status",
                        "diagnostic",
                        "message_id",
                    ]
                ].to_dict("records")
            ]
    return summary


def file_mail(
    ws: Workspace, fetched: dict | None = None, settings: ImapSettings | None = None
) -> dict:
    """Move the messages taken in (and loaded) to the processed or quarantine folder;
    alert the officer of quarantined mail and bounced addresses."""
    from warehouse.queries import unfiled_mail
    from warehouse.writer import record_mail_filed

    settings = settings or ImapSettings.from_settings(ws.config.settings)
    if not settings.host:
        return {"processed": 0, "quarantined": []}
    with connect(ws.paths.warehouse, read_only=True) as con:
        unfiled = unfiled_mail(con, settings.mailbox)
    decided = []
    for r in unfiled.to_dict("records"):
        if r["kind"] in ("mail", "too_large"):
            # not yet through take-in and load: left for the next run
            if not r["taken"] or (ws.paths.inbox / f"imap-{r['sha256']}.eml").exists():
                continue
            rules = r["sender_rules"] if isinstance(r["sender_rules"], str) else ""
            if rules:
                verdict, reason = "quarantined", rules
            elif r["all_unreadable"] and r["submissions"]:
                verdict, reason = "quarantined", "unreadable"
            else:
                verdict, reason = "processed", None
        else:
            verdict, reason = "processed", None
        decided.append(r | {"verdict": verdict, "reason": reason})
    moved = []
    if decided:
        with open_mailbox(settings) as mb:
            for verdict, folder in (
                ("processed", settings.processed_folder),
                ("quarantined", settings.quarantine_folder),
            ):
                rows = [r for r in decided if r["verdict"] == verdict]
                mb.move([r["uid"] for r in rows if r["uidvalidity"] == mb.uidvalidity], folder)
                moved += [
                    (
                        settings.mailbox,
                        r["uidvalidity"],
                        r["uid"],
                        folder if r["uidvalidity"] == mb.uidvalidity else None,
                        verdict,
                        r["reason"],
                    )
                    for r in rows
                ]
        with connect(ws.paths.warehouse) as con:
            record_mail_filed(
                con,
                pd.DataFrame(
                    moved, columns=["mailbox", "uidvalidity", "uid", "folder", "verdict", "reason"]
                ),
            )
    quarantined = [
        {
            "uid": r["uid"],
            "sender": r["sender"],
            "subject": r["subject"],
            "units": r["units"] if isinstance(r["units"], str) else None,
            "reason": r["reason"],
        }
        for r in decided
        if r["verdict"] == "quarantined"
    ]
    bounced = (fetched or {}).get("bounced", [])
    alert = None
    if quarantined or bounced:
        alert = _alert_officer(ws, settings, quarantined, bounced)
    return {
        "processed": sum(r["verdict"] == "processed" for r in decided),
        "quarantined": quarantined,
        "alert": alert,
    }


def _alert_officer(
    ws: Workspace, settings: ImapSettings, quarantined: list[dict], bounced: list[dict]
) -> str:
    """One email to the officer; returns `sent` or the error (an alert never fails the
    run: the warehouse and the folders keep what it says)."""
    from thidua.alerts import mailbox_alert
    from thidua.mailer import open_mailer

    email = mailbox_alert(ws.config, settings.quarantine_folder, quarantined, bounced)
    with open_mailer(ws.config.settings, ws.paths.outbox) as mailer:
        result = mailer.send(email)
    return "sent" if result.ok else f"failed: {result.error}"
