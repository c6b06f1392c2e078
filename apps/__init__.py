"""Apps: the `thidua` CLI, the demo, the local Prefect server controller (top layer)."""
