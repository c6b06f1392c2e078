"""Thin task of the rollup flows: one task run builds one rollup version (batch SQL
inside).  No retries: a rerun would record a new version, which is what reruns mean."""

from __future__ import annotations

from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from thidua.rollup.run import RollupResult, run_annual, run_phase
from thidua.workspace import Workspace


@task(cache_policy=NO_CACHE)
def build_rollup(kind: str, number: int, today: date | None = None) -> RollupResult:
    """Query, write the files of a new version and record its provenance."""
    ws = Workspace.from_env()
    return (run_annual if kind == "annual" else run_phase)(ws, number, today)
