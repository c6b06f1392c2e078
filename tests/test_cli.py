"""The CLI as an officer uses it: init, cycles, units, status; errors exit cleanly."""

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from apps.cli import app
from thidua.settings import REPO_CONFIG

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def snapshot(db: Path) -> dict[str, list]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}


def test_init_twice_changes_nothing(workspace):
    before = snapshot(workspace.paths.warehouse)
    result = run("init")
    assert result.exit_code == 0, result.output
    assert "bản chuyển đổi đã áp dụng: không có (đã cập nhật)" in result.output
    assert "đơn vị: thêm 0, đổi 0, thôi 0" in result.output
    assert snapshot(workspace.paths.warehouse) == before
    assert len(before["unit_versions"]) == 39 and len(before["cycles"]) == 9


def test_cycles_json_has_moved_due_dates(workspace):
    result = run("cycles", "--json")
    assert result.exit_code == 0
    cycles = {c["id"]: c for c in json.loads(result.output)}
    assert (cycles["ke-hoach-2025"]["due_original"], cycles["ke-hoach-2025"]["due_date"]) == (
        "2025-08-31",
        "2025-09-03",
    )
    assert cycles["nam-2025"]["due_date"] == "2025-12-22" and cycles["nam-2025"]["moved"]
    assert cycles["nam-2025"]["period_start"] == "2025-08-21"
    assert cycles["tong-ket-2030"]["reward_forms"][0] == "huan-chuong-lao-dong-hang-nhat"
    assert cycles["nam-2025"]["expected_units"] == 39


def test_units_and_status_json(workspace):
    units = json.loads(run("units", "--json").output)
    assert len(units) == 39 and units[0]["code"] == "CQ-VP"
    status = json.loads(run("status", "--json").output)["cycles"]
    nam = next(c for c in status if c["cycle"] == "nam-2025")
    assert nam == {
        "cycle": "nam-2025",
        "kind": "nam",
        "due_original": "2025-12-20",
        "due_date": "2025-12-22",
        "expected": 39,
        "submitted": 0,
        "accepted": 0,
        "on_time": 0,
        "late": 0,
        "missing": 39,
        "plan_documents": 0,
    }


def test_unknown_cycle_is_a_one_line_error(workspace):
    result = run("status", "--cycle", "nam-2099")
    assert result.exit_code == 1
    assert result.output.startswith("Error: no cycle 'nam-2099' (known: ke-hoach-2025, ")


def test_duplicate_unit_exits_2_and_writes_nothing(tmp_path, monkeypatch):
    import shutil

    config = Path(shutil.copytree(REPO_CONFIG, tmp_path / "config"))
    units = config / "units.csv"
    units.write_text(
        units.read_text(encoding="utf-8")
        + "TX-01,Thôn 1 (trùng),thon_xom,thon_xom,x@phongdoanh.example,"
        "Trưởng thôn,y@phongdoanh.example\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("THIDUA_CONFIG", str(config))
    monkeypatch.setenv("THIDUA_HOME", str(tmp_path / "home"))
    result = run("init")
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {units}:41: code: duplicate unit code 'TX-01' (first on line 21)\n"
    )
    assert not (tmp_path / "home").exists()


def test_help_imports_no_heavy_library():
    """`thidua --help` stays instant: pandas, DuckDB, Prefect and GX load lazily."""
    code = (
        "import sys; from apps.cli import app\n"
        "try: app(['--help'])\nexcept SystemExit: pass\n"
        "heavy = {'pandas', 'duckdb', 'prefect', 'great_expectations', 'holidays'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_json_output_is_valid_json_with_null_for_missing_numbers():
    import numpy as np
    import pandas as pd

    from apps.cli import _jsonable

    row = {
        "a": float("nan"),
        "b": np.float64("inf"),
        "c": pd.NA,
        "d": np.int64(3),
        "e": [1.5, float("-inf")],
        "f": pd.Timestamp("2025-12-22 10:00", tz="UTC"),
    }
    text = json.dumps(_jsonable(row), allow_nan=False)
    assert json.loads(text) == {
        "a": None,
        "b": None,
        "c": None,
        "d": 3,
        "e": [1.5, None],
        "f": "2025-12-22T10:00:00+00:00",
    }
