"""Telemetry stays off whoever imports first, and the domain sets no library's
environment: each package is imported alone, in a fresh interpreter without the
variables (the Makefile exports them, so they are removed here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

VARS = (
    "DO_NOT_TRACK",
    "GX_ANALYTICS_ENABLED",
    "PREFECT_SERVER_ANALYTICS_ENABLED",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
)


def environment_after(module: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in VARS}
    code = (
        f"import os, json, {module}; print(json.dumps({{v: os.environ.get(v) for v in {VARS!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("module", ["flows", "tasks", "apps"])
def test_prefect_users_turn_its_telemetry_off(module):
    got = environment_after(module)
    assert got["DO_NOT_TRACK"] == "1"
    assert got["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert got["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "90"


def test_gx_users_turn_its_telemetry_off():
    got = environment_after("expectations")
    assert (got["DO_NOT_TRACK"], got["GX_ANALYTICS_ENABLED"]) == ("1", "false")


def test_the_domain_sets_no_library_environment():
    assert environment_after("thidua") == dict.fromkeys(VARS)
