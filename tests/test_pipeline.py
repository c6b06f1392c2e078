"""One sequence per pipeline: the CLI (in process, no Prefect) and the flow (each step a
task) run the same steps and leave the same rows, acknowledgments and outcomes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from data.corpus import DIR
from typer.testing import CliRunner

from apps.cli import app
from flows.collect import collect_flow
from flows.remind import remind
from pipeline.init import init_workspace
from thidua.workspace import Workspace
from warehouse.db import connect

pytestmark = pytest.mark.slow
FILES = ("good.xlsx", "percent_150.xlsx", "corrupt_zip.xlsx", "bom.csv", "late.xlsx")


def fresh(home: Path, monkeypatch) -> Workspace:
    monkeypatch.setenv("THIDUA_HOME", str(home))
    ws = Workspace.from_env()
    init_workspace(ws)
    for name in FILES:  # same bytes, same mtime: same received_at
        shutil.copy2(DIR / name, ws.paths.inbox)
    return ws


def warehouse_rows(ws: Workspace) -> dict[str, list]:
    with connect(ws.paths.warehouse, read_only=True) as con:
        return {
            "submissions": con.execute(
                "SELECT submission_id, unit_code, cycle_id, version, received_at, outcome, "
                "late, n_errors, n_warnings FROM submissions ORDER BY 1"
            ).fetchall(),
            "values": con.execute("SELECT count(*), sum(value) FROM submission_values").fetchall(),
            "problems": con.execute(
                "SELECT submission_id, rule_id, cell, message_vi "
                "FROM validation_results ORDER BY ALL"
            ).fetchall(),
            "acks": con.execute(
                "SELECT submission_id, status, recipients FROM acknowledgments ORDER BY 1"
            ).fetchall(),
        }


def test_cli_collect_and_the_flow_leave_the_same_rows(prefect_harness, tmp_path, monkeypatch):
    cli_ws = fresh(tmp_path / "cli", monkeypatch)
    result = CliRunner().invoke(app, ["collect", "--json"])  # no PREFECT_API_URL
    assert result.exit_code == 0, result.output
    by_cli = json.loads(result.stdout)

    flow_ws = fresh(tmp_path / "flow", monkeypatch)
    by_flow = json.loads(json.dumps(collect_flow(), default=str))

    def files(out):
        return sorted(
            (f["file"], f["outcome"], f["late"], f["errors"], f["warnings"], f["ack"])
            for f in out["files"]
        )

    assert files(by_cli) == files(by_flow) and len(by_cli["files"]) == len(FILES)
    cli_rows, flow_rows = warehouse_rows(cli_ws), warehouse_rows(flow_ws)
    assert cli_rows == flow_rows
    assert len(cli_rows["submissions"]) == len(FILES)
    assert sorted(p.name for p in cli_ws.paths.outbox.iterdir()) != []
    assert len(list(cli_ws.paths.outbox.iterdir())) == len(list(flow_ws.paths.outbox.iterdir()))
    # the flow builds the data docs; `thidua collect` only with --docs (tests/test_data_docs.py)
    assert (flow_ws.paths.data_docs / "index.html").is_file()
    assert not (cli_ws.paths.data_docs / "index.html").exists()


def test_remind_dry_run_of_the_cli_equals_the_flows(prefect_harness, workspace):
    result = CliRunner().invoke(app, ["remind", "--today", "2025-12-17", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    by_cli = json.loads(result.stdout)
    by_flow = json.loads(json.dumps(remind(today=by_cli["today"], dry_run=True), default=str))
    assert by_cli == by_flow
    assert by_cli["dry_run"] is True and len(by_cli["reminders"]) == 39
    assert not list(workspace.paths.outbox.iterdir())  # nothing was sent
