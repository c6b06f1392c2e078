"""Orchestration: the pipeline steps as thin Prefect tasks, one task run per step over a
whole batch; retries only on I/O; the `duckdb-writer` slot around steps that write.
Nothing is cached across runs: the DuckDB warehouse is the record.

Prefect reads its environment when imported: this package, imported before Prefect by
every module that uses it (`flows`, `apps` import it first), sets it."""

import os

PREFECT_ENV = {
    # Offline machines: Prefect must not phone home, whoever imports it first.
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # The ephemeral Prefect API needs more than the default 20 s on a busy 2-core machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}
for _var, _value in PREFECT_ENV.items():
    os.environ.setdefault(_var, _value)
