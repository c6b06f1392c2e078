"""Prefect flows of thidua: the entrypoints of prefect.yaml.

`tasks` is imported first: it turns Prefect's telemetry off and gives the ephemeral API
time to start on a busy machine, which only counts when set before Prefect is imported."""

import tasks  # noqa: F401
