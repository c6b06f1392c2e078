"""The inbox: every arriving file is archived raw under its sha256 before anything reads it.

`.xlsx` and `.csv` files are submissions; an `.eml` is a mail whose `.xlsx`/`.csv`
attachments are the submissions, its From address checked later against the unit's.
The sha256 of a submission's bytes is its `submission_id`, so an identical file sent
again (even inside another mail) is recognised and not loaded twice.
Attachments are looked for as people send them: inside forwarded messages too; inline
images are skipped; other files (a docx or pdf plan, a zip) are archived as documents
of the mail's submissions; winmail.dat and archives are answered in Vietnamese.  Mails
fetched from the commune's mailbox (`thidua.mailbox`, `imap-<sha256>.eml`) are
`mailbox`, and carry what the mail server said of their sender.  A submission's arrival
time is when the file reached us (its mtime: the mail server's INTERNALDATE for a
fetched mail, else the drop in the folder), never the sender's `Date` header.

The folder inbox pairs a plan document with its workbook by name (`pair_documents`): a
`.docx` or `.pdf` whose name without its suffix is that of an `.xlsx`/`.csv` taken in
the same run (`ke-hoach-2025_TX-01.xlsx` and `ke-hoach-2025_TX-01.pdf`, any case) is
archived as that workbook's document, as a mail's other attachments are; the web upload
names its two files so.  A document without its workbook is refused like any other
format, so it is answered rather than left waiting.

Every other inbox entry gets a record and an outcome too, so nothing waits there
unanswered: a file of another format, a symlink (never followed), a FIFO or device
are archived (a link as its target text) and marked `refused`, which examine reports
as unreadable with the reason.  An empty file has no bytes to tell it apart, so its
id comes from its name and time instead (`_empty_id`).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import stat
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any, BinaryIO

from thidua import words
from thidua.rules import too_large

SUBMISSION_SUFFIXES = (".xlsx", ".csv")
# a plan document beside its workbook; a rollup package's manifest (`thidua.package`)
DOCUMENT_SUFFIXES = (".docx", ".pdf", ".json")
INBOX_SUFFIXES = SUBMISSION_SUFFIXES + (".eml",)
MAX_NAME_BYTES = 200  # + the 13-byte quarantine prefix stays under ext4's 255
TMP_SUFFIX = ".tmp"
REFUSED = {
    "link": "liên kết tượng trưng, không nhận",
    "special": "không phải tệp thông thường (thiết bị, FIFO hoặc socket), không nhận",
}
ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z", ".tar", ".gz", ".tgz")
ARCHIVE_TYPES = (
    "application/zip",
    "application/x-zip-compressed",
    "application/x-rar",
    "application/vnd.rar",
    "application/x-rar-compressed",
    "application/x-7z-compressed",
    "application/gzip",
)
TOO_LARGE_HEADER = "X-Thidua-Too-Large"  # set by thidua.mailbox on a header-only copy
AUTOMATIC = (
    "thư tự động (trả lời tự động, báo lỗi gửi thư hoặc thư của hệ thống), không phải báo cáo"
)
READ_CHUNK = 1 << 20  # bytes copied at a time when a file too large is archived
REFUSED_FORMAT = words.REFUSAL["format"]
LONE_DOCUMENT = words.REFUSAL["document"]


@dataclass(frozen=True)
class Incoming:
    """One submitted file, archived; `origin` is the inbox file it came in."""

    submission_id: str  # sha256 of the bytes (of name and time for an empty file)
    name: str
    size: int
    source: str  # inbox | eml
    sender: str | None  # From address, lower-cased, when it came by mail
    received_at: datetime  # UTC
    archived_path: Path
    origin: Path
    refused: str | None = None  # why it is not parsed (a link, a format not taken)
    message_id: str | None = None  # of the mail it came in
    subject: str | None = None
    auth: str | None = None  # mailbox.authentication: pass, dkim=fail..., None
    mail_sha256: str | None = None  # the mail it came in (archive/<sha256>)
    notes: tuple[tuple[str, str], ...] = ()  # (rule_id, value) found in the mail
    resend_of: str | None = None  # the bytes' sha256 when the id is a resend's (`resent`)


def envelope_key(inc: Incoming) -> bytes:
    """What tells one sending of a file from another: the mail it came in, else its
    name and arrival in the folder."""
    return (inc.mail_sha256 or f"{inc.name}\0{inc.received_at.isoformat()}").encode()


def resent(inc: Incoming) -> Incoming:
    """The file sent again under another envelope, with an id of its own (the same on a
    rerun): a submission is its bytes and its envelope, so a file refused for who sent
    it or when can be sent again unchanged."""
    sha = inc.resend_of or inc.submission_id
    return replace(
        inc, submission_id=_digest(b"resend", sha.encode(), envelope_key(inc)), resend_of=sha
    )


@dataclass(frozen=True)
class Arrival:
    """One inbox file and what came out of it (itself, or a mail's attachments)."""

    path: Path
    sha256: str
    size: int
    received_at: datetime
    archived_path: Path
    submissions: tuple[Incoming, ...]
    documents: tuple[Incoming, ...] = ()  # other attachments, linked to the submissions


def scan(inbox: Path) -> list[Path]:
    """Every inbox entry but directories, oldest first (name breaks ties): each gets a
    record and an outcome, what thidua does not take included, so nothing waits in the
    inbox unanswered.  A name that is not UTF-8 or too long to get a quarantine prefix
    is renamed first (`safe_name`), since the name is stored and moved later."""
    if not inbox.is_dir():
        return []
    with os.scandir(inbox) as entries:  # lstat only: a link is listed, not followed
        found = [
            (st.st_mtime, e.name, e.path)
            for e in entries
            if not stat.S_ISDIR((st := e.stat(follow_symlinks=False)).st_mode)
        ]
    return [_renamed_if_unsafe(Path(path)) for *_, path in sorted(found)]


def safe_name(name: str) -> str:
    """`name` as valid UTF-8 (undecodable bytes become U+FFFD) of at most
    `MAX_NAME_BYTES`, the suffix kept."""
    text = os.fsencode(name).decode("utf-8", "replace")
    if len(text.encode()) <= MAX_NAME_BYTES:
        return text
    stem, suffix = os.path.splitext(text)
    suffix = suffix if len(suffix.encode()) <= 16 else ""
    stem = stem.encode()[: MAX_NAME_BYTES - len(suffix.encode())].decode("utf-8", "ignore")
    return stem + suffix


def _renamed_if_unsafe(path: Path) -> Path:
    """The path, renamed in the inbox to `safe_name` (with -1, -2... if taken) when
    its name is not already safe."""
    name = safe_name(path.name)
    if name == path.name:
        return path
    stem, suffix = os.path.splitext(name)
    target, n = path.with_name(name), 0
    while os.path.lexists(target):
        n += 1
        target = path.with_name(f"{stem}-{n}{suffix}")
    os.rename(path, target)
    return target


def archive(data: bytes, archive_dir: Path, sha: str | None = None) -> tuple[str, Path]:
    """Write `data` to archive/<sha> (default: its sha256) once and return (sha, path).

    Created under its final name (O_EXCL: no lookup, no rename, which cost the kernel
    a quarter of the take-in's system time, bench/README.md); a write that fails (disk
    full) removes it.  Not fsynced one by one (see bench/README.md, "Figures behind the
    code"): `finish` syncs the archive's file system once, before any record names a
    file.  A file already there is kept only if it holds exactly `data`: one a crash
    left empty or short, or of the right size but zero-filled (a power loss before that
    sync can), is replaced whole (a temporary file renamed over it) on the rerun."""
    sha = sha or hashlib.sha256(data).hexdigest()
    target = archive_dir / sha
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        try:
            same = target.stat().st_size == len(data) and target.read_bytes() == data
        except OSError:  # a dangling link in its place
            same = False
        if not same:
            _replace(target, data)
        return sha, target
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return sha, target


def _replace(target: Path, data: bytes) -> None:
    """Put `data` in place of the file `target` by a temporary file renamed over it."""
    tmp = target.with_name(f".{target.name}{TMP_SUFFIX}{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def archive_stream(f: BinaryIO, archive_dir: Path) -> tuple[str, Path, int]:
    """Copy an open file into archive/<sha256> a chunk at a time, hashing as it goes:
    a file too large to read into memory is kept all the same.  (sha, path, size)."""
    digest, size = hashlib.sha256(), 0
    tmp = archive_dir / f".stream{TMP_SUFFIX}{os.getpid()}"
    try:
        with open(tmp, "wb") as out:
            while chunk := f.read(READ_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        target = archive_dir / digest.hexdigest()
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), target, size


def take(
    path: Path, archive_dir: Path, authserv_id: str | None = None, max_bytes: int | None = None
) -> Arrival:
    """Archive one inbox file and, for a mail, each attachment that is a submission."""
    return arrival_of(path, archive_dir, take_entry(path, archive_dir, authserv_id, max_bytes)[0])


def prepare(paths: list[Path], archive_dir: Path) -> tuple[list[Path], dict[Path, list[Path]]]:
    """Before a batch is taken in: temporary files a crash or a full disk left in the
    archive are removed, and the paths paired (`pair_documents`): (the paths to take one
    by one, workbook → its documents), the second for `finish`."""
    for stray in archive_dir.glob(f".*{TMP_SUFFIX}*"):
        stray.unlink(missing_ok=True)
    return pair_documents(paths)


def finish(
    arrivals: list[Arrival],
    companions: dict[Path, list[Path]],
    archive_dir: Path,
    max_bytes: int | None = None,
) -> list[Arrival]:
    """After every file of a batch is taken: each workbook's paired documents archived
    with it, then the archive synced to disk (the caller records the files next)."""
    arrivals = [
        _with_documents(a, companions[a.path], archive_dir, max_bytes)
        if a.path in companions
        else a
        for a in arrivals
    ]
    _sync(archive_dir)
    return arrivals


def pair_documents(paths: list[Path]) -> tuple[list[Path], dict[Path, list[Path]]]:
    """The folder inbox's pairing rule: a `.docx` or `.pdf` regular file whose name
    without its suffix (compared case-insensitively) is that of an `.xlsx` or `.csv`
    among `paths` belongs to that workbook (the first one of that name).  Returns the
    paths left to take one by one, and workbook → its documents (in `paths` order)."""
    workbooks: dict[str, Path] = {}
    for p in paths:
        if p.suffix.lower() in SUBMISSION_SUFFIXES:
            workbooks.setdefault(p.stem.casefold(), p)
    companions: dict[Path, list[Path]] = {}
    for p in paths:
        book = workbooks.get(p.stem.casefold())
        if p.suffix.lower() in DOCUMENT_SUFFIXES and book is not None and _regular(p):
            companions.setdefault(book, []).append(p)
    paired = {d for docs in companions.values() for d in docs}
    return [p for p in paths if p not in paired], companions


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        return False


def _with_documents(
    arrival: Arrival, docs: list[Path], archive_dir: Path, max_bytes: int | None = None
) -> Arrival:
    """The workbook's Arrival with its paired documents archived (raw bytes, under their
    sha256) as `documents`, which the load links to its submission (`attachments`).
    A document that is no longer a regular file is left in the inbox for the next run;
    one over `max_bytes` is archived by streaming and linked all the same."""
    found = []
    for path in docs:
        data, mtime, kind = _read_regular(path, archive_dir, max_bytes)
        if kind:
            continue
        if isinstance(data, tuple):
            (sha, size), archived = data, archive_dir / data[0]
        else:
            size = len(data)
            sha, archived = archive(
                data, archive_dir, None if data else _empty_id(path.name, mtime)
            )
        found.append(
            Incoming(
                sha,
                path.name,
                size,
                "inbox",
                None,
                datetime.fromtimestamp(mtime, UTC),
                archived,
                path,
            )
        )
    return replace(arrival, documents=arrival.documents + tuple(found))


def _sync(directory: Path) -> None:
    """Flush the file system holding `directory` (syncfs on Linux: that file system
    only; elsewhere os.sync)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if not hasattr(libc, "syncfs") or libc.syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def take_entry(
    path: Path, archive_dir: Path, authserv_id: str | None = None, max_bytes: int | None = None
) -> tuple[Arrival | tuple[str, int, float, str | None], bytes | None]:
    """Archive one inbox file: (a mail's Arrival, or for any other file only (id, size,
    mtime, why refused), cheaper to send back from a worker (`arrival_of`); the bytes
    of a file to parse, which the caller need not read again from the archive, else
    None).  A file of more than `max_bytes` is archived a chunk at a time and refused,
    never read whole.  Opened without following a link, and read only if it is a regular
    file: a link's target is never read, a FIFO never waited on."""
    data, mtime, kind = _read_regular(path, archive_dir, max_bytes)
    if isinstance(data, tuple):  # too large: archived by streaming, refused
        sha, size = data
        return (sha, size, mtime, too_large(size, round((max_bytes or 0) / 2**20, 1))), None
    if kind:  # not a regular file: refused
        sha, _ = archive(data, archive_dir, _digest(kind.encode(), os.fsencode(path.name), data))
        return (sha, len(data), mtime, REFUSED[kind]), None
    sha, archived = archive(data, archive_dir, None if data else _empty_id(path.name, mtime))
    if (reason := refusal(path.name)) is not None:
        return (sha, len(data), mtime, reason), None
    if path.suffix.lower() != ".eml":
        return (sha, len(data), mtime, None), data
    return _mail(path, data, sha, archived, mtime, archive_dir, authserv_id), None


def _read_regular(
    path: Path, archive_dir: Path, max_bytes: int | None = None
) -> tuple[bytes | tuple[str, int], float, str | None]:
    """(bytes, mtime, None) of a regular file; else (what to archive, mtime, kind): a
    symlink's target text, nothing for a FIFO, socket or device.  A regular file over
    `max_bytes` is archived here by streaming: ((sha256, size), mtime, None)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno != errno.ELOOP:  # ELOOP: the last component is a link
            raise
        return os.fsencode(os.readlink(path)), path.lstat().st_mtime, "link"
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return b"", st.st_mtime, "special"
        if max_bytes is not None and st.st_size > max_bytes:
            sha, _, size = archive_stream(f, archive_dir)
            return (sha, size), st.st_mtime, None
        data = f.read() if max_bytes is None else f.read(max_bytes + 1)
        if max_bytes is not None and len(data) > max_bytes:  # it grew while we read
            f.seek(0)
            sha, _, size = archive_stream(f, archive_dir)
            return (sha, size), st.st_mtime, None
        return data, st.st_mtime, None


def _digest(*parts: bytes) -> str:
    """An id for what has no bytes of its own to hash (distinct from any file's sha256,
    whose input never carries these NUL-separated tags)."""
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _empty_id(name: str, mtime: float) -> str:
    """An empty file's id: all empty files share one sha256, so by bytes the second
    would be a duplicate of the first (a 0-byte .eml of a 0-byte .csv).  Its name and
    time tell it apart and stay the same on a rerun."""
    return _digest(b"empty", os.fsencode(name), repr(mtime).encode())


def _mail(
    path: Path,
    data: bytes,
    sha: str,
    archived: Path,
    mtime: float,
    archive_dir: Path,
    authserv_id: str | None,
) -> Arrival:
    """The Arrival of a mail: each .xlsx/.csv attachment a submission, in the order
    they were attached (a microsecond apart, so versions follow that order); other
    attachments its documents.  Received when the file reached us, not at its `Date`."""
    from thidua.mailbox import is_automatic

    source = "mailbox" if path.name.startswith("imap-") else "eml"
    received = datetime.fromtimestamp(mtime, UTC)
    whole = Incoming(sha, path.name, len(data), source, None, received, archived, path)
    try:
        msg = message_from_bytes(data, policy=policy.default)
        if is_automatic(msg):  # an auto-reply, a bounce, our own mail: kept, never answered
            return _alone(replace(whole, refused=AUTOMATIC))
        mail, subs, docs, notes = _attached(msg, whole, archive_dir, authserv_id)
    except Exception:  # noqa: BLE001 - the email package raises many types on bad input
        return _alone(replace(whole, refused="thư hỏng, không đọc được"))
    if subs:  # a zip or winmail.dat beside a workbook: a warning on each submission
        notes = [("archive_ignored", v) for _, v in notes]
        subs = [replace(s, notes=tuple(notes)) for s in subs]
    else:  # the mail itself stands for the submission, and is reported unreadable
        subs = [_standing_in(replace(whole, **mail, notes=tuple(notes)), docs)]
        docs = [d for d in docs if d.name != subs[0].name]
    return Arrival(path, sha, len(data), received, archived, tuple(subs), tuple(docs))


def _standing_in(mail: Incoming, docs: list[Incoming]) -> Incoming:
    """A mail without a workbook, answered as the folder answers the file the unit
    sent: named after it (never our `imap-<sha256>.eml`) and refused for the same
    reason (`refusal`); with no file at all, a fetched mail after its subject."""
    if not mail.size:  # an empty file: the parser says so
        return mail
    fetched = mail.source == "mailbox"  # named by us: imap-<sha256>.eml
    own = (mail.subject or "thư không có tệp đính kèm") if fetched else mail.name
    if mail.notes:  # winmail.dat, an archive, too large: the folder's reason too
        kind, value = mail.notes[0]
        if kind == "too_large":
            return replace(mail, name=own, refused=value, notes=())
        return replace(mail, name=value, refused=refusal(value, kind), notes=())
    for doc in docs:
        if (reason := refusal(doc.name)) is not None:
            return replace(mail, name=doc.name, refused=reason)
    return replace(mail, name=own, refused=words.REFUSAL["no_workbook"])


def refusal(name: str, kind: str | None = None) -> str | None:
    """Why a file of this name is not taken as a report (its format), else None: the
    one rule of the folder, the mailbox and the web page.  `kind`: what a mail's
    attachment was found to be by its declared type too (`attachments`)."""
    suffix = os.path.splitext(name)[1].lower()
    if kind == "winmail" or name.lower() == "winmail.dat":
        return words.REFUSAL["winmail"]
    if kind == "archive" or suffix in ARCHIVE_SUFFIXES:
        return words.REFUSAL["archive"]
    if suffix in DOCUMENT_SUFFIXES:
        return LONE_DOCUMENT.format(suffix=suffix)
    if suffix not in INBOX_SUFFIXES:
        return REFUSED_FORMAT.format(suffix=suffix or "không có đuôi")
    return None


def _alone(mail: Incoming) -> Arrival:
    """A mail that is nothing but itself (automatic, or broken)."""
    return Arrival(
        mail.origin, mail.submission_id, mail.size, mail.received_at, mail.archived_path, (mail,)
    )


def _attached(
    msg: Message, whole: Incoming, archive_dir: Path, authserv_id: str | None
) -> tuple[dict, list[Incoming], list[Incoming], list[tuple[str, str]]]:
    """What a mail says of itself (sender, ids, authentication), its submissions and
    documents, archived, and the notes on it (winmail.dat, archives, too large)."""
    from thidua.mailbox import authentication, header, sender_address

    mail: dict[str, Any] = {
        "sender": sender_address(msg),
        "message_id": header(msg, "Message-ID"),
        "subject": header(msg, "Subject"),
        "auth": authentication(msg, authserv_id),
        "mail_sha256": whole.submission_id,
    }
    subs: list[Incoming] = []
    docs: list[Incoming] = []
    notes: list[tuple[str, str]] = []
    for kind, name, content in attachments(msg):
        name = safe_name(name)
        if kind in ("winmail", "archive"):
            notes.append((kind, name))
        nth = str(len(subs) + len(docs)).encode()
        empty_id = _digest(b"empty", whole.submission_id.encode(), nth)
        a_sha, a_path = archive(content, archive_dir, None if content else empty_id)
        into = subs if kind == "submission" else docs
        received = whole.received_at + timedelta(microseconds=len(into))
        into.append(
            replace(
                whole,
                submission_id=a_sha,
                name=name,
                size=len(content),
                received_at=received,
                archived_path=a_path,
                **mail,
            )
        )
    if over := msg.get(TOO_LARGE_HEADER):  # the reason, written by `thidua.mailbox`
        notes.append(("too_large", str(over)))
    return mail, subs, docs, notes


def arrival_of(path: Path, archive_dir: Path, taken: Arrival | tuple) -> Arrival:
    """The Arrival of what `take_entry` returned for `path`."""
    return taken if isinstance(taken, Arrival) else _arrival(path, archive_dir, *taken)


def _arrival(
    path: Path, archive_dir: Path, sha: str, size: int, mtime: float, refused: str | None
) -> Arrival:
    """The Arrival of an inbox file that is not a mail, archived as `sha`."""
    received = datetime.fromtimestamp(mtime, UTC)
    archived = archive_dir / sha
    sub = Incoming(sha, path.name, size, "inbox", None, received, archived, path, refused)
    return Arrival(path, sha, size, received, archived, (sub,))


def attachments(msg: Message) -> list[tuple[str, str, bytes]]:
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
        if part.get_content_maintype() == "image" and (
            disposition != "attachment" or part.get("Content-ID")
        ):
            continue
        if not name and disposition != "attachment" and ctype != "application/ms-tnef":
            continue
        lower = name.lower()
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
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
