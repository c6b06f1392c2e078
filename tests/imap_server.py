"""Real IMAP servers for tests and benches, each started as a subprocess on a free
loopback port with one login, and a small imap-tools client to fill them (APPEND,
folders) as a mail server's delivery would: pymap's in-memory (dict) backend for the
fast tests, and Debian's Dovecot (Maildir, its own config in a temp dir, delivery by
`dovecot-lda`) for the slow ones."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = Path("/usr/sbin/dovecot")
DOVECOT_LDA = Path("/usr/lib/dovecot/dovecot-lda")
# dovecot-core (the server, the LDA) and dovecot-imapd (its IMAP process)
DOVECOT_PARTS = (DOVECOT, DOVECOT_LDA, Path("/usr/lib/dovecot/imap"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    proc: subprocess.Popen

    def client(self):
        from imap_tools import MailBoxUnencrypted

        return MailBoxUnencrypted(self.host, self.port).login(
            self.user, self.password, initial_folder=None
        )

    def append(self, messages: list[bytes], folder: str = "INBOX", dt=None) -> None:
        """APPEND each message; `dt` is its INTERNALDATE (None: now)."""
        with self.client() as mb:
            if not mb.folder.exists(folder):
                mb.folder.create(folder)
            for raw in messages:
                mb.append(raw, folder, dt=dt, flag_set=())

    def uids(self, folder: str) -> list[str]:
        with self.client() as mb:
            if not mb.folder.exists(folder):
                return []
            mb.folder.set(folder)
            return mb.uids("ALL")

    def recreate(self, folder: str) -> None:
        """Delete and create the folder again: a new UIDVALIDITY."""
        with self.client() as mb:
            mb.folder.set("INBOX")
            mb.folder.delete(folder)
            mb.folder.create(folder)

    def env(self) -> dict[str, str]:
        return {
            "THIDUA_IMAP_HOST": self.host,
            "THIDUA_IMAP_PORT": str(self.port),
            "THIDUA_IMAP_USER": self.user,
            "THIDUA_IMAP_PASSWORD": self.password,
            "THIDUA_IMAP_SECURITY": "none",
        }

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_pymap(
    user: str = "vhxh@phongdoanh.example", password: str = "mat-khau-thu"
) -> ImapServer:
    """`pymap --host 127.0.0.1 --port N --no-tls dict` with one user; ready on return."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pymap.main import main; main()",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-tls",
            "dict",
            "--demo-user",
            user,
            "--demo-password",
            password,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_ready(proc, port, "pymap")
    return ImapServer("127.0.0.1", port, user, password, proc)


def _wait_ready(proc: subprocess.Popen, port: int, name: str, log: Path | None = None) -> None:
    """Until the server greets on `port` (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            why = log.read_text()[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{name} did not start\n{why}")
        time.sleep(0.1)


@dataclass
class Dovecot(ImapServer):
    """Dovecot on its own config: `deliver` as the commune's mail server does, the
    `rawlog` of what clients sent, and an INBOX recreated under a new UIDVALIDITY."""

    conf: Path
    maildir: Path
    rawlog: Path

    def deliver(self, raw: bytes) -> None:
        """`dovecot-lda -d <user>`, the mail on stdin: into the INBOX, as from the MTA."""
        subprocess.run(
            [DOVECOT_LDA, "-c", self.conf, "-d", self.user], input=raw, check=True, timeout=30
        )

    def commands(self) -> list[str]:
        """The IMAP commands clients sent so far ("LOGIN", "UID MOVE"…), from Dovecot's
        rawlog (one file a session; the lines of an APPEND's literal are left out)."""
        text = "".join(p.read_text(errors="replace") for p in sorted(self.rawlog.glob("*.in")))
        return re.findall(r"^\S+ [A-Za-z0-9.]+ (UID [A-Z]+|[A-Z]+)\b", text, re.MULTILINE)

    def recreate(self, folder: str) -> None:
        """The INBOX cannot be deleted over IMAP: its Maildir files and indexes are
        removed (as a restore from a file backup does), so Dovecot gives it a new
        UIDVALIDITY and numbers its messages from 1 again.  Other folders as pymap's."""
        if folder != "INBOX":
            super().recreate(folder)
            return
        for path in self.maildir.iterdir():
            if path.name in ("cur", "new", "tmp"):
                for mail in path.iterdir():
                    mail.unlink()
            elif path.name.startswith(("dovecot.index", "dovecot-uidlist", "dovecot.list")):
                path.unlink()

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.conf.parent, ignore_errors=True)


def start_dovecot(
    user: str = "vhxh@phongdoanh.example",
    password: str = "mat-khau-thu",
    capability: str | None = None,
) -> Dovecot:
    """`dovecot -F -c <tmp>/dovecot.conf`: IMAP only on 127.0.0.1, plaintext login, a
    passwd-file user with a Maildir, in a temp dir of its own (removed by `stop`).
    `capability`: what it announces after login instead of its own list (a server
    without MOVE, say; it still answers every command it has).  As
    root the mail belongs to `nobody` (Dovecot refuses UID 0 for mail and root for its
    login processes), so the dir is not pytest's private one; otherwise everything runs
    as the current user."""
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="thidua-dovecot-"))
    tmp.chmod(0o711)
    maildir, rawlog = tmp / "home" / "Maildir", tmp / "rawlog"
    for d in (tmp / "run", tmp / "state", maildir.parent, rawlog):
        d.mkdir(parents=True, exist_ok=True)
    owner = pwd.getpwnam("nobody") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
    for d in (maildir.parent, rawlog):
        shutil.chown(d, owner.pw_uid, owner.pw_gid)
    (tmp / "passwd").write_text(
        f"{user}:{{PLAIN}}{password}:{owner.pw_uid}:{owner.pw_gid}::{maildir.parent}::\n"
    )
    conf = tmp / "dovecot.conf"
    conf.write_text(_dovecot_conf(tmp, port, maildir, rawlog, capability))
    log = tmp / "dovecot.log"
    with log.open("ab") as errors:  # what it says before its own log is open
        proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", conf], stdout=subprocess.DEVNULL, stderr=errors
        )
    _wait_ready(proc, port, "dovecot", log)
    return Dovecot("127.0.0.1", port, user, password, proc, conf, maildir, rawlog)


def _dovecot_conf(tmp: Path, port: int, maildir: Path, rawlog: Path, capability: str | None) -> str:
    as_me = (
        ""
        if os.getuid() == 0
        else f"default_internal_user = {pwd.getpwuid(os.getuid()).pw_name}\n"
        f"default_login_user = {pwd.getpwuid(os.getuid()).pw_name}\n"
    )
    passwd = tmp / "passwd"
    announced = f"  imap_capability = {capability}\n" if capability else ""
    return f"""base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
{as_me}protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{maildir}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
protocol imap {{
  rawlog_dir = {rawlog}
{announced}}}
"""
