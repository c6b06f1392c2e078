"""What every flow shares: the run's workspace (settings resolved once per run) and the
state hooks that email the admin when a run fails or crashes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from prefect import get_run_logger
from prefect.runtime import flow_run as current_run
from prefect.utilities.urls import url_for

from thidua.alerts import failure_alert
from thidua.errors import ThiduaError
from thidua.mailer import send_one
from thidua.tenants import tenant as hosted
from thidua.workspace import Workspace

_HANDED: ContextVar[Workspace | None] = ContextVar("thidua_handed_workspace", default=None)
_RUNS: dict[str, Workspace] = {}  # flow run id → its workspace, until the run ends
MAX_RUNS = 3  # a crashed run is rerun (apps.automations); one that always crashes stops


@contextmanager
def handing(ws: Workspace) -> Iterator[None]:
    """Flows called in this block run on `ws`: a caller that resolved the settings (the
    CLI) hands them on instead of having each run resolve them again."""
    token = _HANDED.set(ws)
    try:
        yield
    finally:
        _HANDED.reset(token)


def resolve(tenant: str | None) -> Workspace:
    """The tenant's workspace (`THIDUA_TENANTS`), else the process's (`THIDUA_*`)."""
    return hosted(tenant).workspace() if tenant else Workspace.from_env()


def run_workspace(tenant: str | None = None) -> Workspace:
    """The workspace of the current flow run: the one handed by the caller, else resolved
    here (a deployment's run, for its `tenant` when the deployment hosts many communes).
    Kept for the run's state hooks, so the settings are resolved at most once per run."""
    if current_run.run_count > MAX_RUNS:
        raise ThiduaError(f"run {current_run.name}: crashed {MAX_RUNS} times, not rerun again")
    ws = _HANDED.get() or resolve(tenant)
    _RUNS[str(current_run.id)] = ws
    return ws


def _run_workspace_of(flow_run: Any) -> Workspace:
    """The workspace the run used; resolved here only if the run failed before it had one."""
    handed = _RUNS.pop(str(flow_run.id), None) or _HANDED.get()
    return handed or resolve((flow_run.parameters or {}).get("tenant"))


def alert_admin(flow: Any, flow_run: Any, state: Any) -> None:
    """on_failure / on_crashed hook: one alert per failed run, through the mailer (SMTP,
    or the outbox when none is configured).  Never raises: a broken alert must not hide
    the failure it reports."""
    logger = get_run_logger()
    try:
        ws = _run_workspace_of(flow_run)
        email = failure_alert(
            ws.config.settings,
            flow.name,
            flow_run.name,
            state.name,
            state.message or "",
            url_for(flow_run),
            datetime.now().astimezone(),
        )
        sent = send_one(ws.config.settings, ws.paths.outbox, email)
        if sent.status == "sent":
            logger.info("alert sent to %s (%s)", sent.recipients, sent.message_id)
        else:
            logger.error("alert to %s not sent: %s", sent.recipients, sent.error)
    except Exception as exc:  # noqa: BLE001 - report, never mask the run's own failure
        logger.error("alert not sent: %s: %s", type(exc).__name__, exc)


def forget_run(flow: Any, flow_run: Any, state: Any) -> None:
    """on_completion / on_cancellation hook: the run's workspace is no longer needed."""
    _RUNS.pop(str(flow_run.id), None)


ALERT_HOOKS: dict[str, Any] = {
    "on_failure": [alert_admin],
    "on_crashed": [alert_admin],
    "on_completion": [forget_run],
    "on_cancellation": [forget_run],
}
