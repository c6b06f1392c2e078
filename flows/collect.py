"""Collect the inbox: archive → parse and check → load → tidy → acknowledge.

Deployed every 15 minutes (prefect.yaml).  One batch per run, a handful of task runs
whatever the number of files; the DuckDB warehouse is the record, the table artifact a
summary for the Prefect UI.
"""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.hooks import ALERT_HOOKS
from tasks import collect as t
from thidua.collect import outcomes
from thidua.workspace import Workspace

ARTIFACT_COLUMNS = ("unit", "cycle", "outcome", "late", "errors", "warnings", "ack", "file")


@flow(name="collect", log_prints=True, **ALERT_HOOKS)
def collect_flow(inbox: str | None = None) -> dict:
    # One collection at a time: an overlapping run waits, then finds the inbox done
    with Workspace.from_env().run_lock("collect"):
        return _collect(inbox)


def _collect(inbox: str | None) -> dict:
    # Extract: archive and record every file before anything reads it
    arrivals = t.take_in(inbox)
    # Transform: parse, registry checks, one GX run over the batch
    batch = t.examine(arrivals)
    # Load: one transaction, then the inbox is tidied
    loaded = t.load(batch)
    tidied = t.tidy_inbox(batch)
    # Tell each unit (also retries acknowledgments that failed on earlier runs)
    acks = t.acknowledge(None)
    ack_status = dict(zip(acks["submission_id"], acks["status"]))
    rows = [r | {"ack": ack_status.get(r["submission_id"], "")} for r in outcomes(batch)]
    if rows:    # what the admin scans first leads; the full sha256 is in DuckDB
        create_table_artifact(key="collect-outcomes", description=f"Batch {batch.batch_id}: "
                              "outcome of each file", table=[
                                  {k: r[k] for k in ARTIFACT_COLUMNS}
                                  | {"submission": r["submission_id"][:12]} for r in rows])
    print(f"batch {batch.batch_id}: {len(arrivals)} inbox file(s), {loaded} submission(s) "
          f"loaded, {len(batch.duplicates)} duplicate(s), {tidied['quarantined']} "
          f"quarantined, {int((acks['status'] == 'sent').sum())} acknowledgment(s) sent")
    return {"batch_id": batch.batch_id, "loaded": loaded, "files": rows}

if __name__ == "__main__":
    collect_flow()
