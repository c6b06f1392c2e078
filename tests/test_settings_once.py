"""Settings are resolved once per run on the Prefect path too: the CLI resolves them and
hands them to the flow, a deployment's run resolves them itself, and the failure hook
uses the run's (real ephemeral Prefect API, real aiosmtpd, the real resolver counted)."""

from __future__ import annotations

import json

import pytest
from prefect import flow
from typer.testing import CliRunner

import thidua.workspace
from apps.cli import app
from flows.hooks import ALERT_HOOKS, handing, run_workspace
from thidua.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture
def resolutions(monkeypatch) -> list[str]:
    """The config directory of every call of the one resolver, which still does its work."""
    calls: list[str] = []
    resolve = thidua.workspace.resolve_settings

    def counted(directory, env):
        calls.append(str(directory))
        return resolve(directory, env)

    monkeypatch.setattr(thidua.workspace, "resolve_settings", counted)
    return calls


@flow(name="fails-after-resolving", **ALERT_HOOKS)
def fails_after_resolving() -> None:
    run_workspace()
    raise RuntimeError("hết dung lượng")


def test_cli_flow_run_resolves_once(workspace, prefect_harness, resolutions, monkeypatch):
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())  # the CLI runs the flow
    # an empty inbox: the run goes through every step, and leaves no artifact that
    # test_collect_io's flow test, on the same session API, would find besides its own
    result = CliRunner().invoke(app, ["collect", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["loaded"] == 0
    assert len(resolutions) == 1


def test_failure_hook_uses_the_handed_workspace(
    workspace, prefect_harness, smtp_env, resolutions, monkeypatch
):
    ws = Workspace.from_env()  # with smtp_env's server
    monkeypatch.delenv("THIDUA_SMTP_HOST")  # resolved again, the alert would go to the outbox
    with handing(ws):
        assert fails_after_resolving(return_state=True).is_failed()
    assert len(resolutions) == 1  # this test's own, above
    [got] = smtp_env.received
    assert got.message["Subject"].startswith("[thidua] Luồng fails-after-resolving thất bại")
    assert not any(ws.paths.outbox.glob("*"))


def test_deployment_run_resolves_once_hook_included(
    workspace, prefect_harness, smtp_env, resolutions
):
    assert fails_after_resolving(return_state=True).is_failed()
    assert len(resolutions) == 1
    assert len(smtp_env.received) == 1
