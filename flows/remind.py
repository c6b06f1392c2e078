"""Daily reminders (nhắc hạn): each unit gets the stage due today, at most once ever.

Runs at 08:00 Asia/Ho_Chi_Minh (prefect.yaml) the sequence `pipeline.remind.remind`,
each step a task.  The DuckDB sent log is the record of what went out; the artifacts
summarise the run per cycle and stage.
"""

from __future__ import annotations

from datetime import date
from typing import cast
from uuid import UUID

from prefect import flow
from prefect.artifacts import (
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from flows.hooks import ALERT_HOOKS, run_workspace
from pipeline.remind import remind as remind_sequence
from tasks.remind import run
from thidua import words
from thidua.calendar import format_date_vi


@flow(name="remind", log_prints=True, **ALERT_HOOKS)
def remind(
    today: date | None = None,
    cycle: str | None = None,
    dry_run: bool = False,
    tenant: str | None = None,
) -> dict:
    """Send today's reminders; a dry run plans and reports without sending or logging."""
    ws = run_workspace(tenant)
    progress = cast(  # a sync flow: the sync call, not a coroutine
        UUID,
        create_progress_artifact(0.0, key="remind-progress", description="Thư nhắc hạn đã gửi"),
    )

    def advance(percent: float) -> None:
        update_progress_artifact(progress, percent)

    done = remind_sequence(ws, today, cycle, dry_run, run=run, progress=advance)
    advance(100.0)
    # For the officer in Vietnamese; the return value keeps the --json keys
    create_table_artifact(
        [
            {
                words.HEADER.get(k, k): format_date_vi(v)
                if isinstance(v, date)
                else words.STAGE.get(v, v)
                if k == "stage"
                else v
                for k, v in row.items()
            }
            for row in done.stages
        ],
        key="remind-stages",
        description=f"Nhắc hạn ngày {format_date_vi(done.today)}"
        f"{' (chạy thử)' if dry_run else ''}: theo kỳ và đợt nhắc",
    )
    print(
        f"{format_date_vi(done.today)}: {len(done.reminders)} thư nhắc hạn "
        f"{'sẽ gửi' if dry_run else 'đã xử lý'}"
    )
    return done.as_dict()


if __name__ == "__main__":
    remind()
