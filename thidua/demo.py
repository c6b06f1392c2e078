"""`make demo`: a whole cycle of the sample Phong Doanh commune on embedded defaults.

Ephemeral Prefect, DuckDB under `var/`, emails as .eml files in `var/outbox/`.  Each
step is a thidua CLI command, run in-process, so the output is what an officer sees.
"""

from __future__ import annotations

from rich.console import Console
from rich.rule import Rule

from thidua import cli

console = Console()


def step(title: str) -> None:
    console.print(Rule(f"[bold]{title}"))


def main() -> None:
    step("1. thidua init: data directories, warehouse, sample Phong Doanh registry")
    cli.init()
    step("2. thidua cycles: the reporting cycles with due dates moved to working days")
    cli.cycles(as_json=False)
    step("3. thidua status: expected units per cycle")
    cli.status(cycle=None, as_json=False)
    step("4. thidua rollup annual 2025: the report to Sở Nội vụ (xlsx, docx, charts, data)")
    cli.rollup_annual(2025, as_json=False)


if __name__ == "__main__":
    main()
