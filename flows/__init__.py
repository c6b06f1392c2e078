"""Prefect flows of thidua: the entrypoints of prefect.yaml."""
