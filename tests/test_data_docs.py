"""The GX data docs: `thidua collect` skips them (it starts fast), `--docs` builds them
into `$THIDUA_HOME/data-docs/` (the flow always does: tests/test_pipeline.py)."""

from __future__ import annotations

import json
import shutil

from data.corpus import DIR
from typer.testing import CliRunner

from apps.cli import app


def test_cli_collect_builds_the_data_docs_only_when_asked(workspace, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    index = workspace.paths.data_docs / "index.html"
    shutil.copy2(DIR / "good.xlsx", workspace.paths.inbox)
    plain = CliRunner().invoke(app, ["collect", "--json"])
    assert plain.exit_code == 0, plain.output
    assert [f["file"] for f in json.loads(plain.stdout)["files"]] == ["good.xlsx"]
    assert not index.exists()

    shutil.copy2(DIR / "percent_150.xlsx", workspace.paths.inbox)
    asked = CliRunner().invoke(app, ["collect", "--docs", "--json"])
    assert asked.exit_code == 0, asked.output
    assert [f["outcome"] for f in json.loads(asked.stdout)["files"]] == ["rejected"]
    assert index.is_file() and "thidua-submission-values" in index.read_text("utf-8")
