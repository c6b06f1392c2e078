"""The commune's mailbox in the collection: fetch new mail first, file it last.

`fetch_mail` takes every message of the IMAP folder not yet recorded under the folder's
UIDVALIDITY, one FETCH per batch of UIDs, and hands each raw message to the take-in as
`inbox/imap-<sha256>.eml` (written atomically); the message is recorded in DuckDB
(`mail_messages`) by (mailbox, UIDVALIDITY, UID) once its file is on disk, so a crash
refetches at most a batch and the take-in's sha256 keys load nothing twice.  A message
whose sha256 or Message-ID was already taken from the mailbox (a recreated folder, a
copy) is a `repeat` and not taken again.  Delivery status notifications are matched to
the reminder or acknowledgment they answer and mark it bounced; auto-replies are kept
(archived) and never answered.  Each message is parsed once (`thidua.mailbox.classify`).

`file_mail`, after the load and the acknowledgments, moves each message taken in to the
processed folder, or to the quarantine folder when its sender failed verification or
nothing in it could be read (an alert of ours, for the officer, stays where it is);
and alerts the officer (settings [admin]) of quarantined mail and bounced addresses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.header import Header

import pandas as pd

from thidua.intake import TOO_LARGE_HEADER, archive
from thidua.mailbox import Fetched, ImapSettings, Sorted, classify, open_mailbox, write_eml
from thidua.rules import too_large
from thidua.workspace import Workspace
from warehouse.db import connect

CRLF = "\r\n"
NO_MAIL = {"fetched": 0, "taken": 0, "repeats": 0, "dsn": 0, "auto": 0, "bounced": []}
BOUNCE_COLUMNS = ["dsn_sha256", "message_id", "recipient", "status", "diagnostic"]
BOUNCED_KEYS = [
    "unit_code",
    "recipient",
    "answers",
    "cycle_id",
    "stage",
    "status",
    "diagnostic",
    "message_id",
]


def fetch_mail(ws: Workspace, settings: ImapSettings | None = None) -> dict:
    """Fetch the folder's new messages into the inbox directory; record each by UID."""
    from warehouse.queries import known_uids

    settings = settings or ImapSettings.from_settings(ws.config.settings)
    if not settings.host:
        return dict(NO_MAIL)
    ws.paths.inbox.mkdir(parents=True, exist_ok=True)
    ws.paths.archive.mkdir(parents=True, exist_ok=True)
    summary = dict(NO_MAIL, bounced=[])
    with open_mailbox(settings) as mb:
        with connect(ws.paths.warehouse, read_only=True) as con:
            known = known_uids(con, settings.mailbox, mb.uidvalidity)
        new = [u for u in mb.uids() if u not in known]
        for start in range(0, len(new), settings.batch):
            fetched = list(mb.fetch(new[start : start + settings.batch]))
            _take_batch(ws, settings, mb.uidvalidity, fetched, summary)
    return summary


def _take_batch(
    ws: Workspace,
    settings: ImapSettings,
    uidvalidity: int,
    fetched: list[Fetched],
    summary: dict,
) -> None:
    """Sort, keep and record one FETCH batch; count it into `summary`."""
    raws = [f.raw if f.raw is not None else _stand_in(f, settings.max_message_mb) for f in fetched]
    sorts = [classify(raw) for raw in raws]
    kinds = ["too_large" if f.raw is None else s.kind for f, s in zip(fetched, sorts, strict=True)]
    kinds = _repeats(ws, settings.mailbox, sorts, kinds)
    batch = list(zip(fetched, raws, sorts, kinds, strict=True))
    files = [row for f, raw, s, kind in batch if (row := _keep(ws, f, raw, s, kind))]
    rows = [
        {"mailbox": settings.mailbox, "uidvalidity": uidvalidity, "uid": f.uid}
        | {"sha256": s.sha256, "message_id": s.message_id, "subject": s.subject}
        | {"sender": s.sender, "size_bytes": f.size, "kind": kind}
        for f, _, s, kind in batch
    ]
    summary["bounced"] += _record(ws, rows, files, sorts, kinds)
    summary["fetched"] += len(fetched)
    summary["taken"] += sum(k in ("mail", "too_large") for k in kinds)
    for kind, key in (("repeat", "repeats"), ("dsn", "dsn"), ("auto", "auto")):
        summary[key] += kinds.count(kind)


def _stand_in(f: Fetched, cap_mb: float) -> bytes:
    """A message over the size cap is not downloaded: its headers, marked, stand for it
    (the take-in answers its sender)."""
    reason = Header(too_large(f.size, cap_mb), "utf-8", header_name=TOO_LARGE_HEADER)
    line = f"{TOO_LARGE_HEADER}: {reason.encode(linesep=CRLF)}{CRLF}"
    return line.encode() + f.header


def _repeats(ws: Workspace, mailbox: str, sorts: list[Sorted], kinds: list[str]) -> list[str]:
    """The kinds, with `repeat` for a message whose sha256 or Message-ID was taken from
    the mailbox before (or earlier in this batch)."""
    from warehouse.queries import taken_before

    with connect(ws.paths.warehouse, read_only=True) as con:
        seen_shas, seen_mids = taken_before(
            con, mailbox, [s.sha256 for s in sorts], [s.message_id for s in sorts if s.message_id]
        )
    out = []
    for s, kind in zip(sorts, kinds, strict=True):
        repeat = s.sha256 in seen_shas or (s.message_id and s.message_id in seen_mids)
        out.append("repeat" if repeat else kind)
        seen_shas.add(s.sha256)
        if s.message_id:
            seen_mids.add(s.message_id)
    return out


def _keep(ws: Workspace, f: Fetched, raw: bytes, s: Sorted, kind: str) -> dict | None:
    """Mail for the take-in goes to the inbox; a DSN or an auto-reply is archived, and
    its `files` row returned.  A repeat is left alone."""
    if kind in ("mail", "too_large"):
        write_eml(ws.paths.inbox, raw, f.arrived)
    if kind not in ("dsn", "auto"):
        return None
    _, path = archive(raw, ws.paths.archive)
    return {
        "sha256": s.sha256,
        "original_name": f"{kind}-{f.uid}.eml",
        "size_bytes": len(raw),
        "source": "mailbox",
        "sender": s.sender,
        "received_at": datetime.now(UTC),
        "archived_path": str(path),
        "message_id": s.message_id,
        "subject": s.subject,
        "message_sha256": None,
        "content_sha256": None,
    }


def _record(
    ws: Workspace, rows: list[dict], files: list[dict], sorts: list[Sorted], kinds: list[str]
) -> list[dict]:
    """Record the batch's messages, the files of those archived and the bounces; returns
    the bounced addresses found (unit, recipient, what the bounce answers…)."""
    from thidua.batch import FILE_COLUMNS
    from warehouse.writer import MAIL_COLUMNS, record_bounces, record_mail

    bounces = [
        (s.sha256, b.original_message_id, b.recipient, b.status, b.diagnostic)
        for s, kind in zip(sorts, kinds, strict=True)
        if kind == "dsn"
        for b in s.bounces
    ]
    with connect(ws.paths.warehouse) as con:
        record_mail(
            con,
            pd.DataFrame(rows, columns=MAIL_COLUMNS),
            pd.DataFrame(files, columns=FILE_COLUMNS),
        )
        found = record_bounces(con, pd.DataFrame(bounces, columns=BOUNCE_COLUMNS))
    return [
        {k: (None if pd.isna(v) else v) for k, v in r.items()}
        for r in found[BOUNCED_KEYS].to_dict("records")
    ]


def file_mail(
    ws: Workspace, fetched: dict | None = None, settings: ImapSettings | None = None
) -> dict:
    """Move the messages taken in (and loaded) to the processed or quarantine folder;
    alert the officer of quarantined mail and bounced addresses."""
    from warehouse.queries import unfiled_mail

    settings = settings or ImapSettings.from_settings(ws.config.settings)
    if not settings.host:
        return {"processed": 0, "quarantined": []}
    with connect(ws.paths.warehouse, read_only=True) as con:
        unfiled = unfiled_mail(con, settings.mailbox)
    decided = []
    for r in unfiled.to_dict("records"):
        verdict = _verdict(ws, r)
        if verdict is not None:
            decided.append(r | {"verdict": verdict[0], "reason": verdict[1]})
    if decided:
        _move(ws, settings, decided)
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
    alert = _alert_officer(ws, settings, quarantined, bounced) if quarantined or bounced else None
    return {
        "processed": sum(r["verdict"] == "processed" for r in decided),
        "quarantined": quarantined,
        "alert": alert,
    }


def _verdict(ws: Workspace, r: dict) -> tuple[str, str | None] | None:
    """(verdict, reason) of an unfiled message; None while it is not yet through the
    take-in and the load (left for the next run).  The officer's own alerts stay."""
    if r["kind"] == "alert":
        return "kept", None
    if r["kind"] not in ("mail", "too_large"):
        return "processed", None
    if not r["taken"] or (ws.paths.inbox / f"imap-{r['sha256']}.eml").exists():
        return None
    rules = r["sender_rules"] if isinstance(r["sender_rules"], str) else ""
    if rules:
        return "quarantined", rules
    if r["all_unreadable"] and r["submissions"]:
        return "quarantined", "unreadable"
    return "processed", None


def _move(ws: Workspace, settings: ImapSettings, decided: list[dict]) -> None:
    """Move each message to its verdict's folder (those of an older UIDVALIDITY are no
    longer there: recorded without a folder) and record where it went; a `kept` one
    (an alert for the officer) stays where it is."""
    from warehouse.writer import record_mail_filed

    moved = []
    with open_mailbox(settings) as mb:
        for verdict, folder in (
            ("processed", settings.processed_folder),
            ("quarantined", settings.quarantine_folder),
            ("kept", settings.folder),
        ):
            rows = [r for r in decided if r["verdict"] == verdict]
            if verdict != "kept":
                mb.move([r["uid"] for r in rows if r["uidvalidity"] == mb.uidvalidity], folder)
            moved += [
                (settings.mailbox, r["uidvalidity"], r["uid"])
                + (folder if r["uidvalidity"] == mb.uidvalidity else None, verdict, r["reason"])
                for r in rows
            ]
    columns = ["mailbox", "uidvalidity", "uid", "folder", "verdict", "reason"]
    with connect(ws.paths.warehouse) as con:
        record_mail_filed(con, pd.DataFrame(moved, columns=columns))


def _alert_officer(
    ws: Workspace, settings: ImapSettings, quarantined: list[dict], bounced: list[dict]
) -> str:
    """One email to the officer; returns `sent` or `failed: why` (an alert never fails
    the run: the warehouse and the folders keep what it says)."""
    from thidua.alerts import mailbox_alert
    from thidua.mailer import send_one

    email = mailbox_alert(ws.config, settings.quarantine_folder, quarantined, bounced)
    return send_one(ws.config.settings, ws.paths.outbox, email).note
