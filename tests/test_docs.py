"""Every CLI command is documented and has help text."""

from pathlib import Path

import pytest
import typer

from apps.cli import app

DOCS = (Path(__file__).parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
COMMANDS = typer.main.get_command(app).commands


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_is_documented(name):
    assert COMMANDS[name].help, f"`thidua {name}` has no help"
    assert f"## `thidua {name}" in DOCS, f"`thidua {name}` missing from docs/cli.md"
