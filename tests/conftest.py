"""Shared fixtures: the repo config, a fresh initialised workspace, a real SMTP server;
and the helpers many tests use (`drop` a file into an inbox, read `rows`)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from data.corpus import ON_TIME

import tasks  # noqa: F401 - Prefect's environment, before any test imports Prefect
from pipeline.init import init_workspace
from thidua.config import Config, load_config
from thidua.settings import REPO_CONFIG
from thidua.workspace import Workspace
from warehouse.db import connect


def drop(inbox: Path, name: str, data: bytes, received=ON_TIME) -> Path:
    """Put a file into an inbox as a clerk would, received (its mtime) at `received`."""
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_bytes(data)
    os.utime(path, (received.timestamp(), received.timestamp()))
    return path


def rows(ws: Workspace, sql: str, params=None) -> list[tuple]:
    """What a query returns from the workspace's warehouse, opened read-only."""
    with connect(ws.paths.warehouse, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="session")
def cfg() -> Config:
    return load_config(REPO_CONFIG)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A fresh THIDUA_HOME on the sample Phong Doanh config, initialised."""
    return fresh_home(monkeypatch, tmp_path / "home")


def fresh_home(mp: pytest.MonkeyPatch, home: Path) -> Workspace:
    """`home` as THIDUA_HOME on the sample config, no mail server set, initialised (for
    module fixtures too, with a `pytest.MonkeyPatch.context()`)."""
    mp.setenv("THIDUA_HOME", str(home))
    mp.setenv("THIDUA_CONFIG", str(REPO_CONFIG))
    for var in (
        "THIDUA_SMTP_HOST",
        "THIDUA_INBOX",
        "THIDUA_IMAP_HOST",
        "THIDUA_IMAP_AUTHSERV_ID",
        "THIDUA_IMAP_FOLDER",
    ):
        mp.delenv(var, raising=False)
    ws = Workspace.from_env()
    init_workspace(ws)
    return ws


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    """One message as the SMTP server received it: envelope and raw bytes."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class SmtpRecorder:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
            )
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """A real aiosmtpd server on 127.0.0.1 (free port) recording what it receives."""
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder("127.0.0.1", free_port())
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


@pytest.fixture
def smtp_env(smtp_server, monkeypatch):
    """THIDUA_SMTP_* pointing at the `smtp_server` recorder; retries without waiting."""
    monkeypatch.setenv("THIDUA_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("THIDUA_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("THIDUA_SMTP_RETRY_DELAYS", "0")
    return smtp_server


@pytest.fixture(scope="session")
def prefect_harness():
    """One real ephemeral Prefect API for the whole session (~10 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def imap_server():
    """A real IMAP server (pymap, in memory) on 127.0.0.1, one login."""
    from imap_server import start_pymap

    server = start_pymap()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_env(imap_server, monkeypatch):
    """THIDUA_IMAP_* pointing at `imap_server` (plaintext: loopback only)."""
    for name, value in imap_server.env().items():
        monkeypatch.setenv(name, value)
    return imap_server
