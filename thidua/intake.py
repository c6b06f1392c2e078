"""The inbox: every arriving file is archived raw under its sha256 before anything reads it.

`.xlsx` and `.csv` files are submissions; an `.eml` is a mail whose `.xlsx`/`.csv`
attachments are the submissions, its From address checked later against the unit's.
Attachments are looked for as people send them: inside forwarded messages too; inline
images are skipped; other files (a docx or pdf plan, a zip) are archived as documents
of the mail's submissions; winmail.dat and archives are answered in Vietnamese.  Mails
fetched from the commune's mailbox (`thidua.mailbox`, `imap-<sha256>.eml`) are
`mailbox`, and carry what the mail server said of their sender.
The sha256 of a submission's bytes is its `submission_id`, so an identical file sent
again (even inside another mail) is recognised and not loaded twice.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import parseaddr, parsedate_to_datetime
from functools import partial
from pathlib import Path

from thidua.workers import map_chunks, pool_size

SUBMISSION_SUFFIXES = (".xlsx", ".csv")
INBOX_SUFFIXES = SUBMISSION_SUFFIXES + (".eml",)
ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz")
ARCHIVE_TYPES = ("application/zip", "application/x-zip-compressed", "application/x-rar",
                 "application/vnd.rar", "application/x-rar-compressed",
                 "application/x-7z-compressed", "application/gzip")
TOO_LARGE_HEADER = "X-Thidua-Too-Large"     # set by thidua.mailbox on a header-only copy


@dataclass(frozen=True)
class Incoming:
    """One submitted file, archived; `origin` is the inbox file it came in."""
    submission_id: str          # sha256 of the bytes
    name: str
    size: int
    source: str                 # inbox | eml
    sender: str | None          # From address, lower-cased, when it came by mail
    received_at: datetime       # UTC
    archived_path: Path
    origin: Path
    message_id: str | None = None   # of the mail it came in
    subject: str | None = None
    auth: str | None = None         # mailbox.authentication: pass, dkim=fail..., None
    mail_sha256: str | None = None  # the mail it came in (archive/<sha256>)
    notes: tuple[tuple[str, str], ...] = ()   # (rule_id, value) found in the mail


@dataclass(frozen=True)
class Arrival:
    """One inbox file and what came out of it (itself, or a mail's attachments)."""
    path: Path
    sha256: str
    size: int
    received_at: datetime
    archived_path: Path
    submissions: tuple[Incoming, ...]
    documents: tuple[Incoming, ...] = ()    # other attachments, linked to the submissions


def scan(inbox: Path) -> list[Path]:
    """Inbox files thidua takes, oldest first (name breaks ties); others are left alone."""
    if not inbox.is_dir():
        return []
    with os.scandir(inbox) as entries:      # one stat per file, none for the type
        found = [(e.stat().st_mtime, e.name, e.path) for e in entries
                 if os.path.splitext(e.name)[1].lower() in INBOX_SUFFIXES and e.is_file()]
    return [Path(path) for *_, path in sorted(found)]


def archive(data: bytes, archive_dir: Path) -> tuple[str, Path]:
    """Write `data` to archive/<sha256> (atomically, once) and return (sha256, path)."""
    sha = hashlib.sha256(data).hexdigest()
    target = archive_dir / sha
    if not target.exists():
        tmp = archive_dir / f".{sha}.tmp{os.getpid()}"
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return sha, target


def take(path: Path, archive_dir: Path, authserv_id: str | None = None) -> Arrival:
    """Archive one inbox file and, for a mail, each attachment that is a submission."""
    t = _take(path, archive_dir, authserv_id)
    return t if isinstance(t, Arrival) else _arrival(path, archive_dir, *t)


def take_all(paths: list[Path], archive_dir: Path, workers: int | None = None,
             authserv_id: str | None = None) -> list[Arrival]:
    """`take` of each, in order; over `workers` processes (default: one per core) when
    the batch is large enough (`workers.pool_size`): writing the archive copies costs
    the kernel about 0.3-0.8 ms a file here, the bulk of taking a national cycle in."""
    processes = pool_size(len(paths), workers)
    if not processes:
        return [take(p, archive_dir, authserv_id) for p in paths]
    done = map_chunks(partial(_take_chunk, archive_dir=archive_dir, authserv_id=authserv_id),
                      paths, processes)
    return [t if isinstance(t, Arrival) else _arrival(p, archive_dir, *t)
            for chunk, taken in done for p, t in zip(chunk, taken, strict=True)]


def _take_chunk(paths: list[Path], archive_dir: Path, authserv_id: str | None = None) -> list:
    return [_take(p, archive_dir, authserv_id) for p in paths]


def _take(path: Path, archive_dir: Path, authserv_id: str | None = None
          ) -> Arrival | tuple[str, int, float]:
    """A mail's Arrival; for a plain file only (sha256, size, mtime), cheaper to send
    back from a worker."""
    data = path.read_bytes()
    sha, archived = archive(data, archive_dir)
    mtime = path.stat().st_mtime
    if path.suffix.lower() != ".eml":
        return sha, len(data), mtime
    received = datetime.fromtimestamp(mtime, UTC)
    msg = message_from_bytes(data, policy=policy.default)
    sender = parseaddr(str(msg.get("From", "")))[1].lower() or None
    try:
        received = parsedate_to_datetime(str(msg["Date"])).astimezone(UTC)
    except (TypeError, ValueError, KeyError):
        pass
    source = "mailbox" if path.name.startswith("imap-") else "eml"
    from thidua.mailbox import authentication

    mail = {"message_id": _header(msg, "Message-ID"), "subject": _header(msg, "Subject"),
            "auth": authentication(msg, authserv_id), "mail_sha256": sha}
    subs, docs, notes = [], [], []
    for kind, name, content in attachments(msg):
        if kind in ("winmail", "archive"):
            notes.append((kind, name))
        if kind == "submission":
            a_sha, a_path = archive(content, archive_dir)
            subs.append(Incoming(a_sha, name, len(content), source, sender, received, a_path,
                                 path, **mail))
        else:
            d_sha, d_path = archive(content, archive_dir)
            docs.append(Incoming(d_sha, name, len(content), source, sender, received, d_path,
                                 path, **mail))
    if msg.get(TOO_LARGE_HEADER):
        notes.append(("too_large", str(msg[TOO_LARGE_HEADER])))
    if subs:    # a zip or winmail.dat beside a workbook: a warning on each submission
        notes = [("archive_ignored", v) for _, v in notes]
        subs = [replace(s, notes=tuple(notes)) for s in subs]
    else:       # the mail itself stands for the submission, and is reported unreadable
        subs.append(Incoming(sha, path.name, len(data), source, sender, received, archived,
                             path, **mail, notes=tuple(notes)))
    return Arrival(path, sha, len(data), received, archived, tuple(subs), tuple(docs))


def _header(msg, name: str) -> str | None:
    value = msg.get(name)
    return " ".join(str(value).split()) or None if value is not None else None


def attachments(msg) -> list[tuple[str, str, bytes]]:
    """(kind, file name, bytes) of each attachment, forwarded messages included:
    `submission` (.xlsx, .csv), `winmail` (Outlook's TNEF), `archive` (zip, rar...),
    `document` (anything else with a name: a docx or pdf plan).  Inline images (a
    signature logo, a pasted picture) and the text of the mail are not attachments."""
    found = []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        name = part.get_filename() or ""
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        if part.get_content_maintype() == "image" and (disposition != "attachment"
                                                        or part.get("Content-ID")):
            continue
        if not name and disposition != "attachment" and ctype != "application/ms-tnef":
            continue
        lower = name.lower()
        content = part.get_payload(decode=True) or b""
        if lower.endswith(SUBMISSION_SUFFIXES):
            kind = "submission"
        elif ctype == "application/ms-tnef" or lower == "winmail.dat":
            kind, name = "winmail", name or "winmail.dat"
        elif lower.endswith(ARCHIVE_SUFFIXES) or ctype in ARCHIVE_TYPES:
            kind = "archive"
        else:
            kind = "document"
        found.append((kind, name or "tep-dinh-kem", content))
    return found


def _arrival(path: Path, archive_dir: Path, sha: str, size: int, mtime: float) -> Arrival:
    """The Arrival of a plain .xlsx/.csv file, archived as `sha`."""
    received = datetime.fromtimestamp(mtime, UTC)
    archived = archive_dir / sha
    sub = Incoming(sha, path.name, size, "inbox", None, received, archived, path)
    return Arrival(path, sha, size, received, archived, (sub,))
