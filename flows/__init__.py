"""Prefect flows of thidua: the entrypoints of prefect.yaml.

`thidua` is imported first: it turns telemetry off and gives the ephemeral API time to
start on a busy machine, which only counts when set before Prefect is imported."""

import thidua  # noqa: F401
