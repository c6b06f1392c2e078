"""Daily reminders (nhắc hạn): each unit gets the stage due today, at most once ever.

Runs at 08:00 Asia/Ho_Chi_Minh (prefect.yaml).  The DuckDB sent log is the record of
what went out; the table artifact summarises the run per cycle and stage.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import flow
from prefect.artifacts import (
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from flows.hooks import ALERT_HOOKS
from tasks.remind import plan_batch, record_batch, send_batch
from thidua.calendar import format_date_vi
from thidua.reminders import RESULT_COLUMNS, local_today, stage_summary
from thidua.workspace import Workspace

CHUNK = 200     # reminders per send/record round: a crash loses at most one unrecorded chunk


@flow(name="remind", log_prints=True, **ALERT_HOOKS)
def remind(today: date | None = None, cycle: str | None = None,
           dry_run: bool = False) -> dict:
    """Send today's reminders; a dry run plans and reports without sending or logging."""
    ws = Workspace.from_env()
    # One run at a time: an overlapping run waits, then finds today's stages sent
    with ws.run_lock("remind"):
        return _remind(today or local_today(ws.config), cycle, dry_run)


def _remind(today: date, cycle: str | None, dry_run: bool) -> dict:

    # Plan: which unit gets which stage today
    planned = plan_batch(today, cycle)
    to_send = planned[planned["skip"].isna()]
    print(f"{today}: {len(to_send)} reminder(s) to send, "
          f"{len(planned) - len(to_send)} skipped")

    # Send and log, chunk by chunk, so the log never lags far behind the server
    results = []
    progress = create_progress_artifact(0.0, key="remind-progress",
                                        description=f"Reminders sent on {today}")
    if not dry_run:
        for start in range(0, len(to_send), CHUNK):
            chunk = send_batch(to_send.iloc[start:start + CHUNK])
            record_batch(chunk)
            results.append(chunk)
            update_progress_artifact(progress, 100.0 * min(start + CHUNK, len(to_send))
                                     / len(to_send))
    update_progress_artifact(progress, 100.0)

    # Report
    sent = pd.concat(results) if results else pd.DataFrame(columns=RESULT_COLUMNS)
    stages = stage_summary(planned, None if dry_run else sent)
    create_table_artifact([{k: format_date_vi(v) if isinstance(v, date) else v
                            for k, v in row.items()} for row in stages], key="remind-stages",
                          description=f"Reminders on {today}"
                                      f"{' (dry run)' if dry_run else ''}: per cycle and stage")
    return {"today": today, "dry_run": dry_run, "stages": stages,
            "results": sent.to_dict("records")}


if __name__ == "__main__":
    remind()
