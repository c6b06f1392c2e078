"""Production mode for real: a Prefect server on a free loopback port, every deployment
of prefect.yaml deployed, a process worker running the flows.  Slow (~2 min): CI runs it.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import duckdb
import pytest
from helpers import free_port
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
)
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings

from apps import synthetic
from apps.server import Server, without_schedules
from pipeline.init import init_workspace
from thidua.settings import REPO_CONFIG
from thidua.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("server") / "home"
    saved = dict(os.environ)
    os.environ.update(
        THIDUA_HOME=str(home), THIDUA_CONFIG=str(REPO_CONFIG), PREFECT_WORKER_QUERY_SECONDS="1"
    )
    os.environ.pop("THIDUA_SMTP_HOST", None)
    init_workspace(Workspace.from_env())
    srv = Server(home, free_port())
    try:
        srv.start(timeout=180)
        with temporary_settings({PREFECT_API_URL: srv.api_url}):
            without_schedules()
            yield srv
    finally:
        srv.stop()
        os.environ.clear()
        os.environ.update(saved)


def run(name: str, **parameters):
    """Run a deployment through the API and wait for the worker to finish it."""
    flow_run = run_deployment(name, parameters=parameters, timeout=300)
    assert flow_run.state.is_completed(), f"{name}: {flow_run.state}"
    return flow_run


def artifact_keys(flow_run_id) -> set[str]:
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key for a in arts}


def warehouse(server: Server):
    return duckdb.connect(str(server.home / "warehouse.duckdb"), read_only=True)


def test_deployments_run_on_the_server_with_artifacts_and_data(server):
    with get_client(sync_client=True) as client:
        names = {d.name for d in client.read_deployments()}
    assert {"remind", "collect", "annual-rollup", "phase-rollup"} <= names

    remind = run("remind/remind", today="2025-11-21", cycle="nam-2025")
    assert {"remind-stages", "remind-progress"} <= artifact_keys(remind.id)

    ws = Workspace.from_env()
    cycle = ws.config.cycle("nam-2025")
    synthetic.drop_into_inbox(
        ws, cycle, ws.config.expected_units(cycle)[:36], datetime(2025, 12, 15, 10, tzinfo=UTC)
    )
    (ws.paths.inbox / "hong.xlsx").write_bytes(b"PK\x03\x04 cut short")
    collect = run("collect/collect")
    assert "collect-outcomes" in artifact_keys(collect.id)

    rollup = run("annual-rollup/annual-rollup", year=2025)
    assert any(k.startswith("rollup-nam-2025") for k in artifact_keys(rollup.id))

    with warehouse(server) as con:
        assert con.execute(
            "SELECT stage, status, count(*) FROM reminders GROUP BY ALL"
        ).fetchall() == [("mo", "sent", 39)]
        assert con.execute("SELECT count(*), count(unit_code) FROM submissions").fetchall() == [
            (37, 36)
        ]
        # every unit is told; the corrupt file names no unit, so nobody is
        assert con.execute(
            "SELECT count(*) FROM acknowledgments WHERE status = 'sent'"
        ).fetchall() == [(36,)]
        assert con.execute("SELECT cycle_id, kind FROM rollups").fetchall() == [
            ("nam-2025", "annual")
        ]
    assert (server.home / "reports" / "nam-2025" / "v1").is_dir()


def test_two_overlapping_collect_runs_load_each_submission_once(server):
    ws = Workspace.from_env()
    cycle = ws.config.cycle("nam-2025")
    units = ws.config.expected_units(cycle)[:12]
    synthetic.drop_into_inbox(
        ws,
        cycle,
        units,
        datetime(2025, 12, 18, 10, tzinfo=UTC),
        {u.code: {"TT01": 77} for u in units},
        suffix="v2",
    )
    with warehouse(server) as con:
        before = con.execute("SELECT count(*) FROM submissions").fetchall()[0][0]
        last = dict(
            con.execute(
                "SELECT unit_code, max(version) FROM submissions "
                "WHERE cycle_id = 'nam-2025' GROUP BY ALL"
            ).fetchall()
        )

    first = run_deployment("collect/collect", timeout=0)
    second = run_deployment("collect/collect", timeout=0)
    runs = [_wait(first.id), _wait(second.id)]

    assert all(r.state.is_completed() for r in runs), [r.state for r in runs]
    a, b = sorted(runs, key=lambda r: r.start_time)
    assert b.start_time < a.end_time, "the two runs did not overlap"
    with warehouse(server) as con:
        new = con.execute(
            "SELECT unit_code, version, count(*) OVER (PARTITION BY "
            "submission_id) FROM submissions ORDER BY loaded_at DESC "
            f"LIMIT {len(units)}"
        ).fetchall()
        total = con.execute("SELECT count(*) FROM submissions").fetchall()[0][0]
        acks = con.execute(
            "SELECT max(attempts), count(*) FILTER (status = 'sent') FROM acknowledgments"
        ).fetchall()[0]
        told = con.execute("SELECT count(unit_code) FROM submissions").fetchall()[0][0]
    assert total == before + len(units)
    assert sorted(u for u, _, _ in new) == sorted(u.code for u in units)
    assert all(v == last.get(u, 0) + 1 and n == 1 for u, v, n in new), new
    assert acks == (1, told)  # one acknowledgment per unit's file, sent once
    assert not list(ws.paths.inbox.iterdir())


def _wait(flow_run_id, timeout: float = 300):
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            flow_run = client.read_flow_run(flow_run_id)
            if flow_run.state.is_final() or time.monotonic() > deadline:
                return flow_run
            time.sleep(1)
