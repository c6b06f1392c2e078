"""No function of the production packages is longer than 60 lines (ruff's C901 bounds
their complexity, mypy their annotations: `make lint`)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("thidua", "warehouse", "expectations", "pipeline", "tasks", "flows", "apps")
MAX_LINES = 60


def long_functions() -> dict[str, int]:
    """path:name → lines of every function (nested ones too) over MAX_LINES."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > MAX_LINES:
                        found[f"{path.relative_to(ROOT).as_posix()}:{node.name}"] = lines
    return found


def test_no_function_over_60_lines():
    over = long_functions()
    assert over == {}, f"split these functions (at most {MAX_LINES} lines): {over}"


def test_test_files_share_helpers_only_through_helpers_py():
    """Fixtures live in conftest.py, shared functions in tests/helpers.py: no test file
    imports conftest or another test file (issue 20 item 6)."""
    found = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                name = node.module.split(".")[-1]
                if name == "conftest" or name.startswith("test_"):
                    found.append(f"{path.name}: from {node.module} import …")
    assert found == []
