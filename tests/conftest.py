"""Shared fixtures: the repo config, a fresh initialised workspace, real SMTP and IMAP
servers, one Prefect API.  The helpers test files share are in `helpers.py`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    E2E_PASSWORD,
    N_FILES,
    WORKBOOKS_AT,
    SmtpRecorder,
    free_port,
    fresh_home,
)

import tasks  # noqa: F401 - Prefect's environment, before any test imports Prefect
from apps import synthetic
from apps.server import web_process
from thidua.config import Config, load_config
from thidua.passwords import hash_password
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


@pytest.fixture
def dovecot(request, monkeypatch):
    """Debian's Dovecot on 127.0.0.1 (Maildir, delivery by dovecot-lda), THIDUA_IMAP_*
    pointing at it; an `indirect` parameter is the capability list it announces after
    login (default: its own).  Skipped where it is not installed, failed instead in CI
    (`.ci/run` installs it)."""
    from imap_server import DOVECOT_PARTS, start_dovecot

    missing = [str(p) for p in DOVECOT_PARTS if not p.exists()]
    if missing:
        msg = f"{', '.join(missing)} missing (apt-get install dovecot-imapd; .ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    server = start_dovecot(capability=getattr(request, "param", None))
    try:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> Path:
    """1,000 distinct on-time workbooks of the sample units (read-only for the tests)."""
    from thidua.config import load_config

    cfg = load_config(REPO_CONFIG)
    cycle, units = cfg.cycle("nam-2025"), cfg.units
    folder = tmp_path_factory.mktemp("workbooks")
    for i in range(N_FILES):
        unit = units[i % len(units)]
        path = folder / f"{i:04d}_{unit.code}.xlsx"
        path.write_bytes(synthetic.workbook(cfg, unit, cycle, overrides={"TT01": i}))
        os.utime(path, (WORKBOOKS_AT + i, WORKBOOKS_AT + i))
    return folder


@pytest.fixture
def web_server(workspace, smtp_env, monkeypatch, tmp_path):
    """`thidua web` in a subprocess on a free loopback port, on the test's home, mailing
    through the test SMTP server, its rollups counting approved versions only."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("THIDUA_WEB_SECRET_KEY", "e2e-secret-key-for-thidua-web-0123")
    monkeypatch.setenv("THIDUA_WEB_OFFICER_PASSWORD_HASH", hash_password(E2E_PASSWORD))
    monkeypatch.setenv("THIDUA_WEB_BASE_URL", base)
    monkeypatch.setenv("THIDUA_WEB_ROLLUP_COUNTS", "approved")
    monkeypatch.setenv("PREFECT_UI_URL", "http://127.0.0.1:4200")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with web_process(port, os.environ, tmp_path / "web.log"):
        yield Workspace.from_env(), base


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it)"
        print(f"SKIP: {msg}")
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=120_000)
        try:
            yield b
        finally:
            b.close()
