"""Shared fixtures: the repo config, a fresh initialised workspace, real SMTP and IMAP
servers, one Prefect API.  The helpers test files share are in `helpers.py`."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SmtpRecorder, free_port, fresh_home

import tasks  # noqa: F401 - Prefect's environment, before any test imports Prefect
from thidua.config import Config, load_config
from thidua.settings import REPO_CONFIG
from thidua.workspace import Workspace


@pytest.fixture(scope="session")
def cfg() -> Config:
    return load_config(REPO_CONFIG)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A fresh THIDUA_HOME on the sample Phong Doanh config, initialised."""
    return fresh_home(monkeypatch, tmp_path / "home")


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
