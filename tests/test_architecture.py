"""The layers are a contract: import-linter checks them, and a breach fails."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("thidua", "warehouse", "expectations", "pipeline", "tasks", "flows", "apps")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=root, capture_output=True, text=True, check=False
    )


def test_the_layers_hold():
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


def test_prefect_in_the_domain_breaks_the_contract(tmp_path: Path):
    for name in PACKAGES:
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    calendar = tmp_path / "thidua" / "calendar.py"
    calendar.write_text(calendar.read_text() + "\nimport prefect  # a deliberate breach\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1
    assert "thidua.calendar -> prefect" in done.stdout
    assert "BROKEN" in done.stdout


def test_domain_names_no_orchestration():
    """The issue's own check: `grep -rn "prefect\\|from flows\\|from tasks" thidua`."""
    pattern = re.compile(r"prefect|from flows|from tasks")
    hits = [
        f"{path}:{n}"
        for path in (REPO / "thidua").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if pattern.search(line)
    ]
    assert hits == []
