"""Tell the admin about mail that keeps failing: one alert per failing message, sent
once; an alert that cannot go out now is tried again on the next run."""

from __future__ import annotations

from thidua.alerts import mail_failure_alert
from thidua.mailer import send_one
from thidua.workspace import Workspace
from warehouse.db import connect
from warehouse.queries import failing_mail
from warehouse.writer import mark_alerted


def alert_failing_mail(ws: Workspace) -> int:
    """Alert the admin of acknowledgments and reminders failed `smtp.alert_after` times
    or more, not alerted yet; returns how many the alert named (0 when none or when the
    alert itself could not be sent)."""
    settings = ws.config.settings
    with connect(ws.paths.warehouse, read_only=True) as con:
        failing = failing_mail(con, settings.smtp.alert_after)
    if failing.empty:
        return 0
    rows = failing.astype(object).where(failing.notna(), None).to_dict("records")
    email = mail_failure_alert(settings, rows, settings.calendar.now())
    if send_one(settings, ws.paths.outbox, email).status != "sent":
        return 0
    with connect(ws.paths.warehouse) as con:
        mark_alerted(con, failing)
    return len(failing)
