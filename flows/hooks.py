"""State hooks shared by every flow: email the admin when a run fails or crashes."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger
from prefect.utilities.urls import url_for

from thidua.alerts import failure_alert
from thidua.mailer import send_one
from thidua.workspace import Workspace


def alert_admin(flow, flow_run, state) -> None:
    """on_failure / on_crashed hook: one alert per failed run, through the mailer (SMTP,
    or the outbox when none is configured).  Never raises: a broken alert must not hide
    the failure it reports."""
    logger = get_run_logger()
    try:
        ws = Workspace.from_env()
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


ALERT_HOOKS = {"on_failure": [alert_admin], "on_crashed": [alert_admin]}
