"""The SMTP password reaches the mailer from the environment or from secrets.toml, and
shows nowhere else: not in logs, artifacts, written emails or errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from helpers import SmtpRecorder, free_port

from thidua.settings import REPO_CONFIG

pytestmark = pytest.mark.slow
FROM_FILE, FROM_ENV = "file-secret-7Q2x", "env-secret-9X4z"


class Login:
    """An aiosmtpd authenticator that records the passwords it was given."""

    def __init__(self) -> None:
        self.passwords: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        self.passwords.append(auth_data.password.decode())
        return AuthResult(success=True)


@pytest.fixture
def auth_smtp(monkeypatch):
    recorder, login = SmtpRecorder("127.0.0.1", free_port()), Login()
    controller = Controller(
        recorder,
        hostname=recorder.host,
        port=recorder.port,
        authenticator=login,
        auth_require_tls=False,
    )
    controller.start()
    monkeypatch.setenv("THIDUA_SMTP_HOST", recorder.host)
    monkeypatch.setenv("THIDUA_SMTP_PORT", str(recorder.port))
    monkeypatch.setenv("THIDUA_SMTP_USER", "vhxh@phongdoanh.example")
    monkeypatch.setenv("THIDUA_SMTP_RETRY_DELAYS", "0")
    yield recorder, login
    controller.stop()


@pytest.fixture
def config_with_secrets(tmp_path: Path, monkeypatch) -> Path:
    config = tmp_path / "config"
    shutil.copytree(REPO_CONFIG, config)
    (config / "secrets.toml").write_text(f'[smtp]\npassword = "{FROM_FILE}"\n', encoding="utf-8")
    monkeypatch.setenv("THIDUA_CONFIG", str(config))
    monkeypatch.setenv("THIDUA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("THIDUA_SMTP_PASSWORD", raising=False)
    return config


def everything_written(home: Path) -> bytes:
    return b"".join(
        p.read_bytes()
        for p in home.rglob("*")
        if p.is_file() and p.suffix not in (".duckdb", ".wal", ".parquet", ".xlsx")
    )


def test_password_from_secrets_then_env_reaches_the_server_and_nothing_else(
    prefect_harness, config_with_secrets, auth_smtp, monkeypatch, caplog
):
    from prefect.client.orchestration import get_client

    from flows.remind import remind
    from pipeline.init import init_workspace
    from thidua.workspace import Workspace

    recorder, login = auth_smtp
    init_workspace(Workspace.from_env())
    caplog.set_level("DEBUG")
    remind(today="2025-11-21")  # mo: 39 reminders
    assert login.passwords == [FROM_FILE] and len(recorder.received) == 39

    monkeypatch.setenv("THIDUA_SMTP_PASSWORD", FROM_ENV)  # the environment wins
    remind(today="2025-12-11")  # t7
    assert login.passwords == [FROM_FILE, FROM_ENV]

    with get_client(sync_client=True) as client:
        logs = " ".join(log.message for log in client.read_logs())
        artifacts = " ".join(str(a.data) for a in client.read_artifacts())
    home = Path(Workspace.from_env().paths.home)
    for secret in (FROM_FILE, FROM_ENV):
        assert secret not in logs and secret not in artifacts and secret not in caplog.text
        assert secret.encode() not in b"".join(r.data for r in recorder.received)
        assert secret.encode() not in everything_written(home)
    assert FROM_FILE not in repr(Workspace.from_env())


def test_a_non_ascii_password_fails_the_message_without_showing_it(
    auth_smtp, monkeypatch, tmp_path, caplog
):
    from thidua.mailer import Email, open_mailer
    from thidua.settings import resolve_settings

    monkeypatch.setenv("THIDUA_SMTP_PASSWORD", "mật-khẩu-9X4")
    caplog.set_level("DEBUG")
    with open_mailer(resolve_settings(REPO_CONFIG), tmp_path) as mailer:
        result = mailer.send(Email(to=["a@phongdoanh.example"], subject="x", text="x"))
    assert not result.ok and "non-ASCII" in result.error
    assert "mật-khẩu-9X4" not in result.error + caplog.text
