"""Thin tasks of the reminder flow: plan a day's batch, send it, log it.

Batches, not one task run per unit.  No Prefect retries on `send_batch`: a retried
batch would resend what the server had already accepted; the mailer retries transient
SMTP errors itself, and whatever still fails is logged and sent by the next run.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.guards import writer_slot
from thidua.reminders import plan_reminders, send_reminders
from thidua.workspace import Workspace
from warehouse.db import connect
from warehouse.writer import record_reminders


@task(cache_policy=NO_CACHE)
def plan_batch(today: date, cycle: str | None) -> pd.DataFrame:
    """Expected units × the due stage of each cycle, with why some are skipped."""
    ws = Workspace.from_env()
    with connect(ws.paths.warehouse, read_only=True) as con:
        return plan_reminders(con, ws.config, today, cycle)


@task(cache_policy=NO_CACHE)
def send_batch(planned: pd.DataFrame) -> pd.DataFrame:
    """Send the reminders of a batch over one SMTP connection (or into the outbox)."""
    ws = Workspace.from_env()
    return send_reminders(ws.config, ws.paths.outbox, planned)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def record_batch(results: pd.DataFrame) -> int:
    """Log the batch's outcome in the warehouse's `reminders` table (one transaction)."""
    ws = Workspace.from_env()
    with writer_slot(), connect(ws.paths.warehouse) as con:
        return record_reminders(con, results)
