"""Sending email: over one SMTP connection per mailer, or into the outbox as .eml files.

SMTP comes from the `[smtp]` settings (`smtp.password` in secrets.toml, or
`THIDUA_SMTP_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_SENDER`, `_SECURITY` in the
environment); with no host, every message is written to the outbox instead, which is
what the demo and a commune without a mail server use.

yagmail owns the connection (SSL or STARTTLS, login, reconnect).  The message itself is
built with the stdlib `email` package: yagmail 0.16 cannot carry a separate plain-text
and HTML alternative (its plain part is the HTML source) and derives a Message-ID from
From/To/Subject, so two reminders to one unit would share it.  Ours is generated here
and returned, so the sent log can record it.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from thidua import clock
from thidua.errors import ThiduaError
from thidua.settings import Settings

if TYPE_CHECKING:
    import yagmail

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}
_POLICY = policy.SMTP.clone(refold_source="none")


class SmtpConfigError(ThiduaError):
    "The [smtp] settings (THIDUA_SMTP_*) do not make a usable SMTP setup"


@dataclass
class Email:
    to: list[str]
    subject: str
    text: str
    html: str | None = None
    cc: list[str] = field(default_factory=list)
    attachments: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, content)
    # RFC 3834: every message of ours is automatic, so no auto-responder answers it and
    # a loop cannot start; an acknowledgment is `auto-replied`.
    auto_submitted: str = "auto-generated"
    headers: dict[str, str] = field(default_factory=dict)  # In-Reply-To, References...
    date: datetime | None = None  # the Date header; default: now (`thidua.clock`), local


@dataclass
class SendResult:
    message_id: str
    ok: bool  # the server accepted the message for at least one recipient
    refused: dict[str, str]  # recipient → server answer, for those it refused
    error: str | None


@dataclass(frozen=True)
class Sent:
    """What one send did, as every sent log records it (acknowledgments, reminders,
    alerts, the returned and report mails)."""

    status: str  # sent | failed
    message_id: str | None
    recipients: str  # those that accepted it; all of them when it failed
    sent_at: datetime | None
    error: str | None  # the server's or network's words, and refused recipients

    @property
    def note(self) -> str:
        """ "sent", or "failed: why": for a step's summary."""
        return "sent" if self.status == "sent" else f"failed: {self.error}"


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None  # None: write .eml files to the outbox
    port: int
    security: str  # starttls | ssl | none
    user: str | None
    password: str | None = field(repr=False)
    sender: str  # envelope and From address
    sender_name: str
    retry_delays: tuple[float, ...] = (2.0, 10.0, 30.0)

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings:
        """The `[smtp]` settings (THIDUA_SMTP_* in the environment), completed.

        Security defaults to `ssl` on port 465, `none` for a loopback host (a local
        relay or test server), else `starttls`.  A password never crosses a network
        in clear text: `none` with a login is refused unless the host is loopback.
        """
        smtp = settings.smtp
        host = smtp.host
        security = smtp.security or (
            "ssl" if smtp.port == 465 else "none" if host and is_loopback(host) else "starttls"
        )
        password = smtp.password.get_secret_value() if smtp.password else None
        if host and smtp.user and not password:
            raise SmtpConfigError("THIDUA_SMTP_USER is set but THIDUA_SMTP_PASSWORD is not")
        if host and smtp.user and security == "none" and not is_loopback(host):
            raise SmtpConfigError(
                "refusing to log in without TLS to a non-loopback host; "
                "set THIDUA_SMTP_SECURITY to starttls or ssl"
            )
        return cls(
            host=host,
            port=smtp.port or DEFAULT_PORTS[security],
            security=security,
            user=smtp.user,
            password=password,
            sender=smtp.sender or settings.sender.email,
            sender_name=settings.sender.name,
            retry_delays=smtp.retry_delays,
        )


def is_loopback(host: str) -> bool:
    """A local host (a relay or a test server): the one place plaintext is allowed."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_message(email: Email, sender: str, sender_name: str) -> EmailMessage:
    """The MIME message: text/plain with an HTML alternative, then attachments.

    Headers are encoded per RFC 2047 (UTF-8), attachment names per RFC 2231; bodies
    use quoted-printable so .eml files stay legible.
    """
    msg = EmailMessage(policy=_POLICY)
    # The stdlib's own refolding of encoded words can drop the space between two words
    # at a fold (a Vietnamese subject lost "làm việc" → "làmviệc") and costs ~10 ms a
    # message, so non-ASCII From and Subject are encoded here and stored as they are
    # (set_raw; _POLICY never refolds them).  The sender name stays one encoded word,
    # as yagmail writes it: parsers differ on names split across several.
    name, _, address = formataddr((sender_name, sender)).rpartition(" <")
    msg.set_raw("From", f"{name}\n <{address}")
    msg["To"] = ", ".join(email.to)
    if email.cc:
        msg["Cc"] = ", ".join(email.cc)
    if email.subject.isascii():
        msg["Subject"] = email.subject
    else:
        msg.set_raw("Subject", Header(email.subject, "utf-8", header_name="Subject").encode())
    msg["Date"] = format_datetime(email.date or clock.now())
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = email.auto_submitted
    for name, value in email.headers.items():
        msg[name] = value
    msg.set_content(email.text, cte="quoted-printable")
    if email.html is not None:
        msg.add_alternative(email.html, subtype="html", cte="quoted-printable")
    for filename, content in email.attachments:
        maintype, subtype = _content_type(filename)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def _content_type(filename: str) -> tuple[str, str]:
    import mimetypes

    guessed = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    maintype, _, subtype = guessed.partition("/")
    return maintype, subtype


class Mailer:
    """Sends `Email`s; `send` never raises for a message the server or network refused:
    the result says what happened, so one bad address does not stop a batch."""

    def __init__(self, smtp: SmtpSettings):
        self.smtp = smtp

    def send(self, email: Email) -> SendResult:
        msg = build_message(email, self.smtp.sender, self.smtp.sender_name)
        return self._deliver(msg, [*email.to, *email.cc])

    def send_one(self, email: Email) -> Sent:
        """Send and say what became of it, the one way every sender records it."""
        result = self.send(email)
        everyone = [*email.to, *email.cc]
        accepted = [a for a in everyone if a not in result.refused]
        refused = "; ".join(f"{a}: {answer}" for a, answer in result.refused.items())
        sent = Sent(
            status="sent" if result.ok else "failed",
            message_id=result.message_id,
            recipients=", ".join(accepted if result.ok else everyone),
            sent_at=clock.now(UTC) if result.ok else None,
            error="; ".join(filter(None, [result.error, refused and f"refused {refused}"])) or None,
        )
        log.info("mail %s to %s: %s", sent.message_id, sent.recipients, sent.note)
        return sent

    def _deliver(self, msg: EmailMessage, recipients: list[str]) -> SendResult:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the mailer holds (the SMTP connection)."""


class OutboxMailer(Mailer):
    """Writes each message to `outbox/<message-id>.eml`: unique, so reruns never collide."""

    def __init__(self, smtp: SmtpSettings, outbox: Path):
        super().__init__(smtp)
        self.outbox = outbox
        outbox.mkdir(parents=True, exist_ok=True)

    def _deliver(self, msg: EmailMessage, recipients: list[str]) -> SendResult:
        message_id = msg["Message-ID"]
        path = outbox_file(self.outbox, message_id)
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(msg.as_bytes())
        tmp.replace(path)
        return SendResult(message_id=message_id, ok=True, refused={}, error=None)


class SmtpMailer(Mailer):
    """One yagmail connection, opened at the first message and reused for all of them.

    Connection loss and 4xx answers are retried with backoff (`retry_delays`), after a
    reconnect.  When the server stays unreachable the mailer gives up on it: the rest
    of the batch fails at once, with the same error, to be sent by the next run.
    """

    def __init__(self, smtp: SmtpSettings):
        super().__init__(smtp)
        self._client: yagmail.SMTP | None = None
        self._down: str | None = None

    def _connect(self) -> yagmail.SMTP:
        import yagmail

        tls = ssl.create_default_context()
        login = self.smtp.user or self.smtp.sender
        client = yagmail.SMTP(
            user={login: login},  # a dict, or yagmail appends @gmail.com to bare names
            password=self.smtp.password,
            host=self.smtp.host,
            port=self.smtp.port,
            smtp_ssl=self.smtp.security == "ssl",
            smtp_starttls={"context": tls} if self.smtp.security == "starttls" else False,
            smtp_skip_login=self.smtp.user is None,
            soft_email_validation=False,
            timeout=30,
            **({"context": tls} if self.smtp.security == "ssl" else {}),
        )
        try:
            client.login()
        except UnicodeEncodeError:  # smtplib sends AUTH in ASCII; its error quotes it
            client.close()
            raise smtplib.SMTPAuthenticationError(
                0, "user or password has non-ASCII characters, which smtplib cannot send"
            ) from None
        return client

    def _deliver(self, msg: EmailMessage, recipients: list[str]) -> SendResult:
        message_id = msg["Message-ID"]
        if self._down:
            return SendResult(message_id, False, {}, self._down)
        data = msg.as_bytes()
        delays: Sequence[float] = self.smtp.retry_delays
        for attempt in range(len(delays) + 1):
            try:
                if self._client is None:
                    self._client = self._connect()
                refused = self._client.smtp.sendmail(self.smtp.sender, recipients, data)
                return SendResult(message_id, True, _answers(refused), None)
            except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
                return SendResult(
                    message_id, False, _answers(exc.recipients), "all recipients refused"
                )
            except smtplib.SMTPAuthenticationError as exc:
                self._down = f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}"
                return SendResult(message_id, False, {}, self._down)
            except smtplib.SMTPResponseException as exc:
                error = f"{exc.smtp_code} {_text(exc.smtp_error)}"
                if exc.smtp_code < 400 or exc.smtp_code >= 500:
                    return SendResult(message_id, False, {}, error)  # permanent: next message
            except OSError as exc:  # refused connection, timeout, disconnect
                error = f"{type(exc).__name__}: {exc}"
            self._drop_connection()
            if attempt < len(delays):
                log.warning(
                    "SMTP %s:%s: %s; retrying in %ss",
                    self.smtp.host,
                    self.smtp.port,
                    error,
                    delays[attempt],
                )
                time.sleep(delays[attempt])
        self._down = error
        return SendResult(message_id, False, {}, error)

    def _drop_connection(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except OSError:
                pass
            self._client = None

    def close(self) -> None:
        self._drop_connection()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _answers(refused: Mapping[str, tuple[int, bytes]]) -> dict[str, str]:
    return {rcpt: f"{code} {_text(text)}" for rcpt, (code, text) in refused.items()}


@contextmanager
def open_mailer(settings: Settings, outbox: Path) -> Iterator[Mailer]:
    """The mailer the environment asks for, closed (connection quit) on exit."""
    smtp = SmtpSettings.from_settings(settings)
    mailer = SmtpMailer(smtp) if smtp.host else OutboxMailer(smtp, outbox)
    try:
        yield mailer
    finally:
        mailer.close()


def outbox_file(outbox: Path, message_id: str) -> Path:
    """Where the outbox mailer writes a message: unique, so reruns never collide."""
    return outbox / f"{re.sub(r'[^A-Za-z0-9._@-]', '_', message_id.strip('<>'))}.eml"


def kept_in_outbox(settings: Settings, outbox: Path, sent: Sent) -> Path | None:
    """The .eml a message was only written to (no SMTP server configured: it did not
    leave the machine), or None when it went to an SMTP server (or failed)."""
    if SmtpSettings.from_settings(settings).host or sent.status != "sent" or not sent.message_id:
        return None
    return outbox_file(outbox, sent.message_id)


def send_one(settings: Settings, outbox: Path, email: Email) -> Sent:
    """Send one message over a mailer of its own: an alert, a returned report's notice,
    the report to Sở Nội vụ.  Batches open one mailer and call `Mailer.send_one`."""
    with open_mailer(settings, outbox) as mailer:
        sent = mailer.send_one(email)
    log.info("mail to %s: %s (%s)", sent.recipients, sent.note, sent.message_id)
    return sent
