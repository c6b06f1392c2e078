"""Apps: the `thidua` CLI, the demo, the local Prefect server controller (top layer).

`tasks` is imported first: it sets Prefect's environment (telemetry off), which the
flows run here and the server started by `apps.server` inherit."""

import tasks  # noqa: F401
