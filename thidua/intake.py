"""The inbox: every arriving file is archived raw under its sha256 before anything reads it.

`.xlsx` and `.csv` files are submissions; an `.eml` is a mail whose `.xlsx`/`.csv`
attachments are the submissions, its From address checked later against the unit's.
The sha256 of a submission's bytes is its `submission_id`, so an identical file sent
again (even inside another mail) is recognised and not loaded twice.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

SUBMISSION_SUFFIXES = (".xlsx", ".csv")
INBOX_SUFFIXES = SUBMISSION_SUFFIXES + (".eml",)


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


@dataclass(frozen=True)
class Arrival:
    """One inbox file and what came out of it (itself, or a mail's attachments)."""
    path: Path
    sha256: str
    size: int
    received_at: datetime
    archived_path: Path
    submissions: tuple[Incoming, ...]


def scan(inbox: Path) -> list[Path]:
    """Inbox files thidua takes, oldest first (name breaks ties); others are left alone."""
    if not inbox.is_dir():
        return []
    files = [p for p in inbox.iterdir()
             if p.is_file() and p.suffix.lower() in INBOX_SUFFIXES]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def archive(data: bytes, archive_dir: Path) -> tuple[str, Path]:
    """Write `data` to archive/<sha256> (atomically, once) and return (sha256, path)."""
    sha = hashlib.sha256(data).hexdigest()
    target = archive_dir / sha
    if not target.exists():
        tmp = archive_dir / f".{sha}.tmp{os.getpid()}"
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return sha, target


def take(path: Path, archive_dir: Path) -> Arrival:
    """Archive one inbox file and, for a mail, each attachment that is a submission."""
    data = path.read_bytes()
    sha, archived = archive(data, archive_dir)
    received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    if path.suffix.lower() != ".eml":
        sub = Incoming(sha, path.name, len(data), "inbox", None, received, archived, path)
        return Arrival(path, sha, len(data), received, archived, (sub,))
    msg = message_from_bytes(data, policy=policy.default)
    sender = parseaddr(str(msg.get("From", "")))[1].lower() or None
    try:
        received = parsedate_to_datetime(str(msg["Date"])).astimezone(UTC)
    except (TypeError, ValueError, KeyError):
        pass
    subs = []
    for part in msg.iter_attachments():
        name = part.get_filename() or ""
        if not name.lower().endswith(SUBMISSION_SUFFIXES):
            continue
        content = part.get_payload(decode=True) or b""
        a_sha, a_path = archive(content, archive_dir)
        subs.append(Incoming(a_sha, name, len(content), "eml", sender, received, a_path, path))
    if not subs:    # the mail itself stands for the submission, and is reported unreadable
        subs.append(Incoming(sha, path.name, len(data), "eml", sender, received, archived, path))
    return Arrival(path, sha, len(data), received, archived, tuple(subs))
