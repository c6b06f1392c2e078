"""Thin tasks of the collect flow: each works on the whole batch, never one per file.

Retries only where I/O may fail for a moment (moving files out of the inbox).  The
acknowledgment task has none: the mailer retries transient SMTP errors itself and a
failed acknowledgment is sent by the next run, so a retry could never mail twice.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.guards import writer_slot
from thidua import collect as core
from thidua.intake import Arrival
from thidua.workspace import Workspace


@task(cache_policy=NO_CACHE)
def take_in(inbox: str | None) -> list[Arrival]:
    """Archive every inbox file under its sha256 and record it in `files`."""
    with writer_slot():
        return core.take_in(Workspace.from_env(), Path(inbox) if inbox else None)


@task(cache_policy=NO_CACHE)
def examine(arrivals: list[Arrival]) -> core.Batch:
    """Parse every new submission, check it against the registry, run the GX suite once."""
    return core.examine(Workspace.from_env(), arrivals)


@task(cache_policy=NO_CACHE)
def load(batch: core.Batch) -> int:
    """All rows of the batch in one DuckDB transaction, under the writer limit."""
    with writer_slot():
        return core.load(Workspace.from_env(), batch)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def tidy_inbox(batch: core.Batch) -> dict[str, int]:
    """Quarantine unreadable files, remove the loaded ones from the inbox."""
    return core.tidy_inbox(Workspace.from_env(), batch)


@task(cache_policy=NO_CACHE)
def acknowledge(submission_ids: list[str] | None) -> pd.DataFrame:
    """Mail every pending acknowledgment (these submissions, or all) and log each."""
    with writer_slot():
        return core.acknowledge(Workspace.from_env(), submission_ids)
