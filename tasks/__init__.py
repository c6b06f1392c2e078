"""Orchestration: the pipeline steps as thin Prefect tasks, one task run per step over a
whole batch; retries only on I/O; the `duckdb-writer` slot around steps that write.
Nothing is cached across runs: the DuckDB warehouse is the record."""
