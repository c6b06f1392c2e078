"""Which reminder (nhắc hạn) each unit gets on a given day, and the email it gets.

Stage dates are the same for every unit of a cycle, so they are computed once per
cycle (`due_stages`); units are then joined to their cycle's due stage in DuckDB
(`warehouse/sql/due_reminders.sql`), never looped over in Python.

Rules (spec "Reminders"): emails go out on working days only.  The due stage of a
cycle is the latest one whose date has come, so a stage missed because the flow did
not run is caught up by the next run, and an older missed stage is never sent after a
newer one.  A (unit, cycle, stage) is sent at most once: a unit is skipped when the
sent log holds that stage or a later one.  From `t7` on, units with an accepted
submission are skipped.  A cycle stops being chased `CATCH_UP_DAYS` after its
`don-doc` date, so a first run years later does not mail every old cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from thidua.calendar import STAGES
from thidua.config import Config, Cycle, Unit
from thidua.mailer import Email

if TYPE_CHECKING:
    from thidua.template import Earlier

STAGE_NO = {stage: i for i, stage in enumerate(STAGES)}
CHASE_FROM = STAGE_NO["t7"]  # from this stage on, only units that have not submitted
CATCH_UP_DAYS = 30
STAGE_COLUMNS = ["cycle_id", "stage", "stage_no", "stage_date", "due_date"]


def escalates(cfg: Config, unit: Unit) -> bool:
    """Whether the `don-doc` stage of this unit is an escalation (head and admin in copy):
    settings [admin] `escalate_kinds`; by default every kind but companies, which the
    plan only invites."""
    return unit.kind in cfg.settings.admin.escalate_kinds


def due_stages(cfg: Config, today: date, cycle_id: str | None = None) -> pd.DataFrame:
    """Per cycle, the stage due on `today` (the latest whose date has come), if any."""
    rows = []
    cycles = [cfg.cycle(cycle_id)] if cycle_id else cfg.cycles
    if cfg.calendar.is_working_day(today):
        for cycle in cycles:
            dates = cfg.calendar.stage_dates(cycle.due, cycle.opens)
            reached = [s for s in STAGES if s in dates and dates[s] <= today]
            if reached and today <= dates["don-doc"] + timedelta(days=CATCH_UP_DAYS):
                stage = reached[-1]
                rows.append((cycle.id, stage, STAGE_NO[stage], dates[stage], cycle.due))
    return pd.DataFrame(rows, columns=STAGE_COLUMNS).astype({"stage_no": "int64"})


def recipients(cfg: Config, unit: Unit, stage: str) -> tuple[list[str], list[str]]:
    """(to, cc): the unit; `don-doc` copies the unit head and VHXH (settings [admin]),
    for the unit kinds it escalates (`escalates`)."""
    to = [unit.email]
    cc = (
        [unit.head_email, cfg.settings.admin.email]
        if stage == "don-doc" and escalates(cfg, unit)
        else []
    )
    return to, list(dict.fromkeys(a for a in cc if a not in to))


def reminder_email(
    cfg: Config,
    unit: Unit,
    cycle: Cycle,
    stage: str,
    template_sent: bool = True,
    link: str | None = None,
    earlier: Earlier | None = None,
) -> Email:
    """The Vietnamese email of `stage`.  `mo` carries the unit's prefilled template, and
    so does any stage when the unit has not received it yet (`template_sent` False: no
    earlier reminder of the cycle in the sent log, e.g. a unit added to the registry
    after the cycle opened).  `link` is the unit's upload page for the cycle (when
    `[web]` is set up); `earlier` the unit's accepted figures of the phase's years, shown
    in a review's template (`thidua.template.build_workbook`)."""
    from thidua import emails
    from thidua.template import build_workbook, template_filename

    attachments = (
        [(template_filename(unit, cycle), build_workbook(cfg, unit, cycle, earlier=earlier))]
        if stage == "mo" or not template_sent
        else []
    )
    context: dict[str, Any] = {
        "unit": unit,
        "cycle": cycle,
        "stage": stage,
        "movements": "",
        "dates": cfg.calendar.stage_dates(cycle.due, cycle.opens),
        "after_due": STAGE_NO[stage] > STAGE_NO["t1"],
        "escalate": escalates(cfg, unit),
        "attachment": attachments[0][0] if attachments else None,
        "sender": cfg.settings.sender,
        "admin": cfg.settings.admin,
        "commune": cfg.settings.commune,
        "province_office": cfg.settings.province_office,
        "link": link,
    }
    context |= emails.movements(cfg.settings.commune)
    context |= emails.parts("reminder/_body.j2", context)
    context |= emails.parts(f"reminder/{stage}.j2", context)
    to, cc = recipients(cfg, unit, stage)
    return Email(
        to=to,
        cc=cc,
        subject=context["subject"],
        text=emails.render("reminder.txt.j2", False, context),
        html=emails.render("reminder.html.j2", True, context),
        attachments=attachments,
    )


def stage_moment(cfg: Config, day: date) -> datetime:
    """When the reminders of `day` go out: [calendar] send_hour, local time."""
    from datetime import time

    calendar = cfg.settings.calendar
    return datetime.combine(day, time(calendar.send_hour), calendar.tz)


def unit_from_row(row: dict) -> Unit:
    """The registry entry of a planned reminder row (as the warehouse holds it)."""
    return Unit(
        code=row["unit_code"],
        name=row["unit_name"],
        kind=row["kind"],
        block=row["block"],
        email=row["email"],
        head_title=row["head_title"],
        head_email=row["head_email"],
    )


def send_reminders(
    cfg: Config,
    outbox: Path,
    planned: pd.DataFrame,
    record: Callable[[dict], object] = lambda outcome: None,
) -> pd.DataFrame:
    """Render and send the planned reminders not skipped, over one mailer.

    One result row per reminder, in the sent log's columns (`warehouse.writer`), each
    handed to `record` right after its SMTP transaction, so a crash can repeat at most
    the one message in flight.  A reminder counts as sent only when the server accepted
    it for some recipient; a refused address or a broken registry entry fails that
    reminder, not the batch.
    """
    from thidua.mailer import open_mailer

    rows = []
    with open_mailer(cfg.settings, outbox) as mailer:
        for row in planned[planned["skip"].isna()].to_dict("records"):
            try:
                email = reminder_email(
                    cfg,
                    unit_from_row(row),
                    cfg.cycle(row["cycle_id"]),
                    row["stage"],
                    template_sent=bool(row.get("template_sent", True)),
                    link=row.get("link"),
                    earlier=row.get("earlier"),
                )
            except Exception as exc:  # noqa: BLE001 - recorded as a failed reminder
                outcome = _result(row, "failed", error=f"cannot render: {exc}")
            else:
                outcome = _result(row, **asdict(mailer.send_one(email)))
            record(outcome)
            rows.append(outcome)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


RESULT_COLUMNS = [
    "unit_code",
    "cycle_id",
    "stage",
    "due_date",
    "stage_date",
    "status",
    "sent_at",
    "message_id",
    "recipients",
    "error",
]


def _result(
    row: dict,
    status: str,
    message_id: str | None = None,
    recipients: str | None = None,
    sent_at: datetime | None = None,
    error: str | None = None,
) -> dict:
    return {
        "unit_code": row["unit_code"],
        "cycle_id": row["cycle_id"],
        "stage": row["stage"],
        "due_date": row["due_date"],
        "stage_date": row["stage_date"],
        "status": status,
        "sent_at": sent_at,
        "message_id": message_id,
        "recipients": recipients,
        "error": error,
    }


def stage_summary(planned: pd.DataFrame, results: pd.DataFrame | None = None) -> list[dict]:
    """Per (cycle, stage): units concerned, skipped (already sent / submitted), sent, failed."""
    counts = planned.assign(
        units=1,
        skipped_sent=planned["skip"].eq("already_sent"),
        skipped_submitted=planned["skip"].eq("submitted"),
        to_send=planned["skip"].isna(),
    )
    keys = ["cycle_id", "stage", "stage_date", "due_date"]
    out = counts.groupby(keys, as_index=False)[
        ["units", "to_send", "skipped_sent", "skipped_submitted"]
    ].sum()
    if results is not None:
        status = (
            results.assign(sent=results["status"].eq("sent"), failed=results["status"].eq("failed"))
            .groupby(["cycle_id", "stage"], as_index=False)[["sent", "failed"]]
            .sum()
        )
        out = out.merge(status, on=["cycle_id", "stage"], how="left").fillna(
            {"sent": 0, "failed": 0}
        )
    numbers = [c for c in out.columns if c not in keys]
    out[numbers] = out[numbers].astype(int)
    return out.to_dict("records")
