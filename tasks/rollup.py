"""Thin tasks of the rollup flows.  One task run builds one rollup version (batch SQL
inside); no retries: a rerun records a new version, which is what reruns mean.  Sending
has no Prefect retries either (the mailer retries transient SMTP errors itself), so a
report is never mailed twice by one run."""

from __future__ import annotations

from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.guards import writer_slot
from thidua.rollup.run import RollupResult, run_annual, run_phase
from thidua.workspace import Workspace


@task(cache_policy=NO_CACHE)
def build_rollup(kind: str, number: int, today: date | None = None) -> RollupResult:
    """Query, write the files of a new version and record its provenance.  Holds the
    `duckdb-writer` slot (when a server defines it): the rollup ends with a write."""
    ws = Workspace.from_env()
    with writer_slot():
        return (run_annual if kind == "annual" else run_phase)(ws, number, today)


@task(cache_policy=NO_CACHE)
def email_report(result: RollupResult) -> dict:
    """Mail the docx and xlsx to Sở Nội vụ (or write the message to the outbox)."""
    from thidua.rollup.mail import send_report

    sent = send_report(Workspace.from_env(), result)
    return {"ok": sent.ok, "message_id": sent.message_id, "error": sent.error}
