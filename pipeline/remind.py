"""Reminders: plan who gets which stage today → send, each logged as it is sent.

`remind` is the one sequence, shared by `thidua remind` (dry run included) and the
`remind` flow, which runs each step as a task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from pipeline.alerts import alert_failing_mail
from pipeline.links import unit_links
from pipeline.steps import Runner, call
from pipeline.templates import earlier_figures
from thidua.calendar import STAGES
from thidua.config import Config
from thidua.reminders import (
    CHASE_FROM,
    RESULT_COLUMNS,
    due_stages,
    recipients,
    send_reminders,
    stage_summary,
    unit_from_row,
)
from thidua.workspace import Workspace
from warehouse.db import connect
from warehouse.queries import due_reminders

CHUNK = 200  # reminders per send task run (progress); each is logged as it is sent
PLAN_COLUMNS = ("unit_code", "unit_name", "cycle_id", "stage", "stage_date", "due_date")
RESULT_KEYS = ("unit_code", "cycle_id", "stage", "status", "recipients", "message_id", "error")


@dataclass
class Reminded:
    today: date
    dry_run: bool
    stages: list[dict]  # per (cycle, stage): units, sent, failed, skipped
    reminders: list[dict]  # dry run: who would get what; else what was sent

    def as_dict(self) -> dict:
        return {
            "today": self.today,
            "dry_run": self.dry_run,
            "stages": self.stages,
            "reminders": self.reminders,
        }


def plan(ws: Workspace, today: date, cycle_id: str | None = None) -> pd.DataFrame:
    """Who gets which stage today (`plan_reminders`), read from the warehouse."""
    with connect(ws.paths.warehouse, read_only=True) as con:
        return plan_reminders(con, ws.config, today, cycle_id)


def plan_reminders(
    con: duckdb.DuckDBPyConnection, cfg: Config, today: date, cycle_id: str | None = None
) -> pd.DataFrame:
    """Every expected unit of each cycle with a due stage, one row each; `skip` says
    why a unit gets nothing (`already_sent`, `submitted`), NULL when it is to be sent."""
    return due_reminders(con, due_stages(cfg, today, cycle_id), list(STAGES), CHASE_FROM)


def send(ws: Workspace, planned: pd.DataFrame) -> pd.DataFrame:
    """Send the reminders of a chunk over one SMTP connection (or into the outbox),
    logging each in the `reminders` table right after its SMTP transaction; each
    carries the unit's upload link when `[web]` is set up (`pipeline.links.unit_links`),
    and a review's template the unit's figures of the phase's years (`earlier`)."""
    pairs = list(zip(planned["unit_code"], planned["cycle_id"], strict=True))
    found = unit_links(ws, pairs)
    if found:
        planned = planned.assign(link=[found[p] for p in pairs])
    earlier = {
        cycle_id: earlier_figures(ws, ws.config.cycle(cycle_id), sorted(set(rows["unit_code"])))
        for cycle_id, rows in planned.groupby("cycle_id")
    }
    planned = planned.assign(earlier=[earlier.get(c, {}).get(u, {}) for u, c in pairs])
    from warehouse.writer import record_reminders

    with connect(ws.paths.warehouse) as con:
        return send_reminders(
            ws.config,
            ws.paths.outbox,
            planned,
            record=lambda outcome: record_reminders(con, pd.DataFrame([outcome])),
        )


def remind(
    ws: Workspace,
    today: date | None = None,
    cycle_id: str | None = None,
    dry_run: bool = False,
    run: Runner = call,
    progress: Callable[[float], None] | None = None,
) -> Reminded:
    """Send today's reminders; a dry run plans and reports without sending or logging.

    One run at a time: an overlapping run waits, then finds today's stages sent.
    """
    today = today or ws.config.settings.calendar.today()
    with ws.run_lock("remind"):
        planned = run(plan, ws, today, cycle_id)
        to_send = planned[planned["skip"].isna()]
        if dry_run:
            return Reminded(today, True, stage_summary(planned), _would_send(ws, to_send))
        # Send chunk by chunk; each reminder is logged as soon as the server took it
        chunks = []
        for start in range(0, len(to_send), CHUNK):
            chunks.append(run(send, ws, to_send.iloc[start : start + CHUNK]))
            if progress:
                progress(100.0 * min(start + CHUNK, len(to_send)) / len(to_send))
        run(alert_failing_mail, ws)
    sent = pd.concat(chunks) if chunks else pd.DataFrame(columns=RESULT_COLUMNS)
    return Reminded(
        today,
        False,
        stage_summary(planned, sent),
        [{k: r[k] for k in RESULT_KEYS} for r in sent.to_dict("records")],
    )


def _would_send(ws: Workspace, to_send: pd.DataFrame) -> list[dict]:
    rows = []
    for row in to_send.to_dict("records"):
        to, cc = recipients(ws.config, unit_from_row(row), row["stage"])
        rows.append({**{k: row[k] for k in PLAN_COLUMNS}, "to": to, "cc": cc})
    return rows
