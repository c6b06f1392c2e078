"""The `duckdb-writer` slot every warehouse write takes when a Prefect server runs."""

from __future__ import annotations

from prefect.concurrency.sync import concurrency

WRITER_LIMIT = "duckdb-writer"   # `thidua server start` creates it: prefect gcl create … --limit 1


def writer_slot(lease_duration: float = 300):
    """The global concurrency slot of the one DuckDB writer, shown in the Prefect UI.

    `strict=False`: with no server (ephemeral API) the limit does not exist and the
    guard lets the write through; processes then still take turns on the warehouse's
    file lock (`warehouse.db.connect`).  The lease frees the slot of a crashed holder.
    """
    return concurrency(WRITER_LIMIT, occupy=1, lease_duration=lease_duration, strict=False)
