"""The commune's mailbox over IMAP: settings, fetching new messages by UID, sorting them
into folders, and reading what arrives (sender authentication, bounces, auto-replies).

IMAP settings come from `THIDUA_IMAP_*` environment variables (`ImapSettings`), in one
place until they join the settings resolver.  No host: no mailbox, collection reads the
inbox directory only.

Fetching never marks a message seen (BODY.PEEK) and asks for a batch of UIDs in one
FETCH (`batch` messages).  Each raw message is written to the inbox directory as
`imap-<sha256>.eml` (tmp, fsync, rename), so the one take-in archives it under its sha256
before anything parses it (`thidua.intake`).
"""

from __future__ import annotations

import hashlib
import os
import re
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from thidua.errors import ThiduaError
from thidua.settings import Settings

if TYPE_CHECKING:
    from imap_tools import BaseMailBox

SECURITY = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}
EML_PREFIX = "imap-"


class ImapConfigError(ThiduaError):
    "The [imap] settings (THIDUA_IMAP_*) do not make a usable IMAP setup"


class MailboxError(ThiduaError):
    "The IMAP server refused or dropped what thidua asked"


@dataclass(frozen=True)
class ImapSettings:
    host: str | None  # None: no mailbox
    port: int
    security: str  # ssl | starttls | none
    user: str | None
    password: str | None = field(repr=False)
    folder: str = "INBOX"
    processed_folder: str = "Đã xử lý"
    quarantine_folder: str = "Cần kiểm tra"
    batch: int = 200  # messages per FETCH
    authserv_id: str | None = None  # the commune's mail server in Authentication-Results
    max_message_mb: float = 25.0  # larger messages are not downloaded, only answered

    @classmethod
    def from_settings(cls, settings: Settings) -> ImapSettings:
        """The `[imap]` settings (THIDUA_IMAP_* in the environment), completed: the
        port from the security (`ssl` 993 unless `starttls` or plaintext `none` is set).
        The password never appears in a message of this function or in the repr."""
        imap = settings.imap
        if imap.host and not (imap.user and imap.password):
            raise ImapConfigError(
                "THIDUA_IMAP_HOST is set: THIDUA_IMAP_USER and THIDUA_IMAP_PASSWORD are needed too"
            )
        return cls(
            host=imap.host,
            port=imap.port or DEFAULT_PORTS[imap.security],
            security=imap.security,
            user=imap.user,
            password=imap.password.get_secret_value() if imap.password else None,
            folder=imap.folder,
            processed_folder=imap.processed_folder,
            quarantine_folder=imap.quarantine_folder,
            batch=imap.batch,
            authserv_id=(imap.authserv_id or "").strip() or None,
            max_message_mb=imap.max_message_mb,
        )

    @property
    def mailbox(self) -> str:
        """The key of the folder in the warehouse: user@host/folder."""
        return f"{self.user}@{self.host}/{self.folder}"


# -- reading a message ------------------------------------------------------------------


def sender_address(msg: Message) -> str | None:
    return parseaddr(str(msg.get("From", "")))[1].lower() or None


def header(msg: Message, name: str) -> str | None:
    """A header on one line (folded whitespace collapsed); None when absent or empty."""
    value = msg.get(name)
    return " ".join(str(value).split()) or None if value is not None else None


def _domain(address: str | None) -> str:
    return (address or "").rpartition("@")[2].lower().strip(".")


def _aligned(domain: str, sender_domain: str) -> bool:
    """`domain` (DKIM d=, SPF mail-from) speaks for the From domain: equal, or a parent."""
    return bool(domain) and (sender_domain == domain or sender_domain.endswith("." + domain))


_COMMENT = re.compile(r"\([^()]*\)")


def _strip_comments(text: str) -> str:
    while True:
        stripped = _COMMENT.sub(" ", text)
        if stripped == text:
            return text
        text = stripped


def authentication(msg: Message, authserv_id: str | None) -> str | None:
    """What the commune's mail server says of the sender (RFC 8601): `pass` when a
    trusted Authentication-Results header shows dkim=pass or spf=pass for the From
    domain; otherwise the results it shows (`dkim=fail spf=none`) or `none` (no trusted
    header).  None when no authserv-id is configured: nothing is checked.

    Trusted: the topmost header whose authserv-id matches (the receiving server
    prepends its own and removes forged ones bearing its id, RFC 8601 §5); the others
    are ignored.
    """
    if not authserv_id:
        return None
    sender_domain = _domain(sender_address(msg))
    for header in msg.get_all("Authentication-Results") or []:
        text = _strip_comments(" ".join(str(header).split()))
        first, *results = [part.strip() for part in text.split(";")]
        if not first or first.split()[0].lower() != authserv_id.lower():
            continue
        seen = []
        for result in results:
            words = result.split()
            if not words or "=" not in words[0]:
                continue
            method, _, verdict = words[0].lower().partition("=")
            props = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            props = {k.lower(): v.strip('"').lower() for k, v in props.items()}
            if method == "dkim":
                domain = props.get("header.d") or _domain(props.get("header.i"))
            elif method == "spf":
                domain = _domain(props.get("smtp.mailfrom")) or props.get("smtp.helo", "")
            else:
                continue
            if verdict == "pass" and _aligned(domain, sender_domain):
                return "pass"
            seen.append(f"{method}={verdict}")
        return " ".join(seen) or "none"
    return "none"


AUTO_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")


def is_dsn(msg: Message) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type", "")).lower() == "delivery-status"
    )


# On the officer's alerts: when the mailbox is the officer's own address, an alert is
# recognised as ours and left in the INBOX for the officer, never filed away.
ALERT_HEADER = "X-Thidua-Alert"


def is_automatic(msg: Message) -> bool:
    """A message a machine sent (RFC 3834 Auto-Submitted, Precedence, out-of-office
    markers, mailer daemons): never answered, never taken as a submission."""
    auto = str(msg.get("Auto-Submitted", "no")).split(";")[0].strip().lower()
    if auto and auto != "no":
        return True
    if str(msg.get("Precedence", "")).strip().lower() in AUTO_PRECEDENCE:
        return True
    if msg.get("X-Autoreply") or msg.get("X-Autorespond"):
        return True
    local = (sender_address(msg) or "").partition("@")[0]
    return local in ("mailer-daemon", "postmaster") or msg.get_content_type() == "multipart/report"


@dataclass(frozen=True)
class Bounce:
    """One failed recipient of a delivery status notification (RFC 3464)."""

    original_message_id: str | None
    recipient: str | None
    action: str
    status: str
    diagnostic: str | None


def bounces(msg: Message) -> list[Bounce]:
    """The failed recipients a DSN reports, with the Message-ID of the message it
    answers (from its returned message or headers).  Delays and successes are not
    bounces."""
    original = None
    groups: list[Message] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            payload = part.get_payload()
            groups = (
                [g for g in payload if isinstance(g, Message)] if isinstance(payload, list) else []
            )
        elif (
            ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
            and original is None
        ):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                original = payload[0].get("Message-ID")
            else:
                from email import message_from_string

                text = payload if isinstance(payload, str) else ""
                original = message_from_string(text).get("Message-ID")
    original = str(original).strip() if original else None
    found = []
    for fields in groups[1:]:  # the first group is per message, then per recipient
        action = str(fields.get("Action", "")).strip().lower()
        if action != "failed":
            continue
        recipient = (
            str(fields.get("Final-Recipient") or fields.get("Original-Recipient") or "")
            .partition(";")[2]
            .strip()
            or None
        )
        found.append(
            Bounce(
                original,
                recipient,
                action,
                str(fields.get("Status", "")).strip(),
                " ".join(str(fields.get("Diagnostic-Code", "")).split()) or None,
            )
        )
    return found


@dataclass(frozen=True)
class Sorted:
    """What a raw message of the mailbox is, from one parse: `mail` (for the take-in),
    `dsn` (a bounce of ours, with its failed recipients) or `auto` (an auto-reply), and
    the headers the warehouse keeps."""

    sha256: str
    kind: str  # mail | dsn | auto | alert (ours, for the officer)
    message_id: str | None
    subject: str | None
    sender: str | None
    bounces: tuple[Bounce, ...] = ()


def classify(raw: bytes) -> Sorted:
    """Sort one raw message.  A message the email package cannot parse is `mail`: the
    take-in reports it unreadable to whoever can be answered."""
    sha = hashlib.sha256(raw).hexdigest()
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        kind = "dsn" if is_dsn(msg) else "auto" if is_automatic(msg) else "mail"
        if kind == "auto" and msg.get(ALERT_HEADER):
            kind = "alert"
        found = tuple(b for b in bounces(msg) if b.original_message_id) if kind == "dsn" else ()
        return Sorted(
            sha,
            kind,
            header(msg, "Message-ID"),
            header(msg, "Subject"),
            sender_address(msg),
            found,
        )
    except Exception:  # noqa: BLE001 - the email package raises many types on bad input
        return Sorted(sha, "mail", None, None, None)


# -- writing to the inbox directory -----------------------------------------------------


def write_eml(inbox: Path, data: bytes, arrived: datetime | None = None) -> tuple[str, Path]:
    """Write a raw message to `inbox/imap-<sha256>.eml`: tmp file, fsync, rename, so the
    take-in never sees half a message.  Its mtime (the take-in's receive time) is when the
    commune's server got it (`arrived`, INTERNALDATE), never later than now: a message
    that came before the deadline stays on time however late it is fetched.  Returns
    (sha256, path)."""
    sha = hashlib.sha256(data).hexdigest()
    path = inbox / f"{EML_PREFIX}{sha}.eml"
    if not path.exists():
        tmp = inbox / f".{EML_PREFIX}{sha}.tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if arrived is not None:
            stamp = min(arrived.timestamp(), time.time())
            os.utime(tmp, (stamp, stamp))
        os.replace(tmp, path)
    return sha, path


# -- the IMAP connection ----------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    uid: int
    raw: bytes | None  # None: over the size cap, only `header`
    size: int
    header: bytes = b""
    arrived: datetime | None = None  # INTERNALDATE: when the commune's server got it


class Mailbox:
    """One IMAP session on the configured folder (imap-tools)."""

    def __init__(self, settings: ImapSettings, client: BaseMailBox) -> None:
        self.settings = settings
        self.client = client
        status = client.folder.status(settings.folder, ["UIDVALIDITY"])
        self.uidvalidity = int(status["UIDVALIDITY"])
        client.folder.set(settings.folder)

    def uids(self) -> list[int]:
        """Every UID in the folder now, ascending, but those marked deleted: another
        client (the officer's) deleted that message and has not expunged it yet, so it
        is not a report to take.  A message appended after this is left for the next
        run."""
        return sorted(int(u) for u in self.client.uids("UNDELETED"))

    def stats(self, uids: list[int]) -> dict[int, tuple[int, datetime | None]]:
        """RFC822.SIZE and INTERNALDATE (when the server received it) of each UID: one
        FETCH per batch."""
        out: dict[int, tuple[int, datetime | None]] = {}
        for chunk in _chunks(uids, max(self.settings.batch, 500)):
            typ, data = self.client.client.uid(
                "FETCH", _uid_set(chunk), "(UID RFC822.SIZE INTERNALDATE)"
            )
            if typ != "OK":
                raise MailboxError(f"FETCH RFC822.SIZE INTERNALDATE refused: {typ}")
            for item in data:
                line = (item[0] if isinstance(item, tuple) else item) or b""
                uid, size = re.search(rb"UID (\d+)", line), re.search(rb"RFC822\.SIZE (\d+)", line)
                if uid and size:
                    out[int(uid.group(1))] = (int(size.group(1)), internal_date(line))
        return out

    def fetch(self, uids: list[int], batch: int | None = None) -> Iterator[Fetched]:
        """The raw messages of `uids`, one FETCH per `batch` UIDs (BODY.PEEK: nothing
        is marked seen).  Messages over the size cap come as headers only."""
        batch = batch or self.settings.batch
        cap = int(self.settings.max_message_mb * 1024 * 1024)
        stats = self.stats(uids) if uids else {}
        small = [u for u in uids if stats.get(u, (0,))[0] <= cap]
        large = [u for u in uids if stats.get(u, (0,))[0] > cap]
        for chunk in _chunks(small, batch):
            for m in self.client.fetch(
                uid_list=[str(u) for u in chunk],
                mark_seen=False,
                bulk=batch if batch >= 2 else False,
            ):
                uid, raw = int(m.uid or 0), _raw(m)
                yield Fetched(uid, raw, len(raw), arrived=stats.get(uid, (0, None))[1])
        for chunk in _chunks(large, batch):
            for m in self.client.fetch(
                uid_list=[str(u) for u in chunk],
                mark_seen=False,
                headers_only=True,
                bulk=batch if batch >= 2 else False,
            ):
                uid = int(m.uid or 0)
                size, arrived = stats[uid]
                yield Fetched(uid, None, size, _raw(m), arrived)

    def move(self, uids: Iterable[int], folder: str) -> int:
        """Move these messages to `folder` (created when missing): UID MOVE where the
        server has it (RFC 6851); else UID COPY, \\Deleted and a UID EXPUNGE of these
        UIDs alone (UIDPLUS, RFC 4315), so a message another client marked deleted
        stays.  Only a server with neither gets imap-tools' COPY, \\Deleted and plain
        EXPUNGE, which removes those too: IMAP offers nothing narrower there."""
        from imap_tools.errors import MailboxExpungeError, MailboxFlagError
        from imap_tools.utils import check_command_status

        uids = sorted(set(uids))
        if not uids:
            return 0
        if not self.client.folder.exists(folder):
            self.client.folder.create(folder)
        capabilities = self.client.client.capabilities
        if "MOVE" in capabilities or "UIDPLUS" not in capabilities:
            self.client.move([str(u) for u in uids], folder, chunks=500)
            return len(uids)
        imap = self.client.client
        for chunk in _chunks(uids, 500):
            uid_set = _uid_set(chunk)
            self.client.copy(uid_set, folder)
            # not imap-tools' `flag` or `delete`: each EXPUNGEs the folder after its STORE
            stored = imap.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)")
            check_command_status(stored, MailboxFlagError)
            check_command_status(imap.uid("EXPUNGE", uid_set), MailboxExpungeError)
        return len(uids)


def internal_date(line: bytes) -> datetime | None:
    """The INTERNALDATE of a FETCH response line, as an aware datetime (None if absent)."""
    m = re.search(rb'INTERNALDATE "([^"]+)"', line)
    if not m:
        return None
    with suppress(ValueError):
        return datetime.strptime(m.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    return None


def _chunks(items: list, n: int) -> Iterator[list]:
    for start in range(0, len(items), n):
        yield items[start : start + n]


def _uid_set(uids: list[int]) -> str:
    """1,2,3,7 → '1:3,7': a short UID set for one command."""
    parts: list[str] = []
    start = prev = -1
    for u in uids:
        if start < 0:
            start = prev = u
        elif u == prev + 1:
            prev = u
        else:
            parts.append(f"{start}:{prev}" if prev != start else str(start))
            start = prev = u
    if start >= 0:
        parts.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(parts)


def _raw(message: object) -> bytes:
    """The bytes a `RawMessage` (`_message_class`) kept."""
    raw = getattr(message, "raw", b"")
    return raw if isinstance(raw, bytes) else b""


def _message_class() -> type:
    from imap_tools import MailMessage

    class RawMessage(MailMessage):
        """Keeps the bytes as the server sent them (their sha256 is the archive key);
        parsing is left to the take-in."""

        def __init__(self, fetch_data: list) -> None:
            raw, uid_data, flag_data = self._get_message_data_parts(fetch_data)
            self.raw = raw
            self._raw_uid_data = uid_data
            self._raw_flag_data = flag_data

    return RawMessage


@contextmanager
def open_mailbox(settings: ImapSettings) -> Iterator[Mailbox]:
    """Log in and select the folder; logged out on exit.  Errors never carry the
    password."""
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    if settings.host is None:
        raise ImapConfigError("no THIDUA_IMAP_HOST")
    tls = ssl.create_default_context()
    client: BaseMailBox
    if settings.security == "ssl":
        client = MailBox(settings.host, settings.port, timeout=60, ssl_context=tls)
    elif settings.security == "starttls":
        client = MailBoxStartTls(settings.host, settings.port, timeout=60, ssl_context=tls)
    else:
        client = MailBoxUnencrypted(settings.host, settings.port, timeout=60)
    client.email_message_class = _message_class()  # type: ignore[assignment]
    try:
        client.login(settings.user or "", settings.password or "", initial_folder=None)
    except Exception as exc:  # noqa: BLE001 - imaplib, socket or imap-tools errors alike
        _logout(client)
        raise MailboxError(
            f"IMAP login to {settings.host}:{settings.port} as "
            f"{settings.user} refused ({type(exc).__name__})"
        ) from None
    try:
        _capabilities_after_login(client)
        yield Mailbox(settings, client)
    finally:
        _logout(client)


def _capabilities_after_login(client: BaseMailBox) -> None:
    """Ask the server's capabilities again once logged in.  Dovecot announces MOVE only
    after login; imaplib keeps the greeting's list, so imap-tools would move by COPY,
    STORE \\Deleted and a plain EXPUNGE, which also expunges any other message someone
    had marked deleted in the folder."""
    typ, data = client.client.capability()
    if typ == "OK" and data and isinstance(data[-1], bytes):
        client.client.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())


def _logout(client: BaseMailBox) -> None:
    with suppress(Exception):  # the session is over either way
        client.logout()
