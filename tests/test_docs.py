"""docs/cli.md tells the truth: every command is there with its real `--help` (cog), and
every key table matches the keys of real `--json` output; the screenshots of what a
unit reads are where the README shows them."""

import json
import re
from pathlib import Path

import pytest
import typer
from cogapp import Cog
from typer.testing import CliRunner

from apps.cli import app

PATH = Path(__file__).parent.parent / "docs" / "cli.md"
DOCS = PATH.read_text(encoding="utf-8")
COMMANDS = typer.main.get_command(app).commands


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_is_documented(name):
    assert COMMANDS[name].help, f"`thidua {name}` has no help"
    assert f"## `thidua {name}" in DOCS, f"`thidua {name}` missing from docs/cli.md"


def test_help_blocks_are_fresh():
    """`cog --check`: the --help blocks are what the CLI prints today (`make docs`)."""
    assert Cog().main(["cog", "--check", str(PATH)]) == 0


def tables(command: str) -> list[set[str]]:
    """The keys of each table in the section of `thidua COMMAND`: the backticked names
    of each row's first cell."""
    section = DOCS.split(f"## `thidua {command}", 1)[1].split("\n## ", 1)[0]
    found = []
    for table in re.findall(r"(?m)^\| key \|.*\n\|[-|]+\|\n((?:\|.*\n)+)", section):
        found.append(
            {key for row in table.splitlines() for key in re.findall(r"`(\w+)`", row.split("|")[1])}
        )
    return found


def run_json(*args: str):
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_keys_match_the_tables(workspace):
    [cycle_keys] = tables("cycles")
    assert set(run_json("cycles")[0]) == cycle_keys

    status_keys, unit_keys, *_ = tables("status")
    status = run_json("status", "--cycle", "nam-2025")
    assert set(status["cycles"][0]) == status_keys
    assert set(status["units"][0]) == unit_keys

    [stage_keys] = tables("remind")
    dry = run_json("remind", "--today", "2025-11-21", "--dry-run")
    assert set(dry["stages"][0]) == stage_keys - {"sent", "failed"}
    sent = run_json("remind", "--today", "2025-11-21")  # into the outbox
    assert set(sent["stages"][0]) == stage_keys

    [rollup_keys] = tables("rollup")
    assert set(run_json("rollup", "annual", "2025")) == rollup_keys


def test_screenshots_of_what_a_unit_reads_are_in_the_readme():
    """docs/text-screenshots.sh made them: the Hướng dẫn sheet printed by LibreOffice,
    an acknowledgment rendered by Chromium; the README shows both."""
    repo = Path(__file__).resolve().parent.parent
    readme = (repo / "README.md").read_text("utf-8")
    for name, (width, height) in (
        ("huong-dan-sheet.png", (500, 600)),
        ("ack-email.png", (800, 400)),
    ):
        data = (repo / "docs" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert w >= width and h >= height, (name, w, h)
        assert f"](docs/{name})" in readme
    script = (repo / "docs" / "text-screenshots.sh").read_text("utf-8")
    assert "soffice --headless" in script and "pdftoppm -png -r 80" in script
    assert "chromium --headless --no-sandbox" in script
