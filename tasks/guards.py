"""The `duckdb-writer` slot every warehouse write takes when a Prefect server runs."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from prefect.concurrency.sync import concurrency
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL

from thidua.tenants import writer_limit  # `thidua server start` creates the limits


def writer_slot(lease_duration: float = 60) -> AbstractContextManager[Any]:
    """The global concurrency slot of the one DuckDB writer, shown in the Prefect UI.

    On the ephemeral API (no PREFECT_API_URL) there is no such limit and nothing to
    take; processes still take turns on the warehouse's file lock
    (`warehouse.db.connect`).  `strict=False`: a server without the limit lets the
    write through too.  The holder renews its lease; a lost host's slot frees itself
    within `lease_duration`.  The tenant is the flow run's `tenant` parameter.
    """
    if not PREFECT_API_URL.value():
        return nullcontext()
    name = writer_limit((flow_run.parameters or {}).get("tenant"))
    return concurrency(name, occupy=1, lease_duration=lease_duration, strict=False)
