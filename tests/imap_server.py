"""A real IMAP server for tests and benches: pymap's in-memory (dict) backend, started as
a subprocess on a free loopback port, one login, and a small imap-tools client to fill
it (APPEND, folders) as a mail server's delivery would."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass


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
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("pymap did not start")
        time.sleep(0.1)
    return ImapServer("127.0.0.1", port, user, password, proc)
