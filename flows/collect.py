"""Collect the inbox: archive → parse and check → load → tidy → acknowledge.

Deployed every 15 minutes (prefect.yaml): the sequence `pipeline.collect.collect`, each
step a task over the whole batch.  The DuckDB warehouse is the record, the table
artifact a summary for the Prefect UI.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.hooks import ALERT_HOOKS
from pipeline.collect import collect
from tasks.collect import run
from thidua.workspace import Workspace

ARTIFACT_COLUMNS = ("unit", "cycle", "outcome", "late", "errors", "warnings", "ack", "file")


@flow(name="collect", log_prints=True, **ALERT_HOOKS)
def collect_flow(inbox: str | None = None) -> dict:
    done = collect(Workspace.from_env(), Path(inbox) if inbox else None, run=run)
    rows = done.files()
    if rows:    # what the admin scans first leads; the full sha256 is in DuckDB
        create_table_artifact(key="collect-outcomes", description=f"Batch "
                              f"{done.batch.batch_id}: outcome of each file", table=[
                                  {k: r[k] for k in ARTIFACT_COLUMNS}
                                  | {"submission": r["submission_id"][:12]} for r in rows])
    mail = done.mail or {}
    if mail.get("quarantined") or mail.get("bounced"):
        create_table_artifact(key="collect-mailbox", description=(
            "Mailbox: mail moved to the quarantine folder, and addresses that bounced"),
            table=[{"what": "quarantined", "unit": q["units"], "address": q["sender"],
                    "detail": f"{q['subject']} ({q['reason']})"} for q in mail["quarantined"]]
            + [{"what": f"bounced {b['answers'] or ''}".strip(), "unit": b["unit_code"],
                "address": b["recipient"], "detail": f"{b['status']} {b['diagnostic'] or ''}"}
               for b in mail["bounced"]])
    print(f"batch {done.batch.batch_id}: {len(done.batch.arrivals)} inbox file(s), "
          f"{done.loaded} submission(s) loaded, {len(done.batch.duplicates)} duplicate(s), "
          f"{done.tidied['quarantined']} quarantined, "
          f"{int((done.acks['status'] == 'sent').sum())} acknowledgment(s) sent")
    return done.as_dict()


if __name__ == "__main__":
    collect_flow()
