"""`make demo`: a whole cycle of the sample Phong Doanh commune on embedded defaults.

Ephemeral Prefect, DuckDB under `var/`, emails as .eml files in `var/outbox/`.  Each
step is a thidua CLI command, run in-process, so the output is what an officer sees.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser

from rich.console import Console
from rich.rule import Rule

from thidua import cli
from thidua.paths import Paths

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
    step("4. thidua remind: nam-2025 reminders on its mo, t7 and qua-han days, into the outbox")
    os.environ.pop("THIDUA_SMTP_HOST", None)        # the demo never mails anyone for real
    for day in ("2025-11-21", "2025-12-11", "2025-12-23"):
        console.print(f"[bold]thidua remind --today {day} --cycle nam-2025")
        cli.remind(today=datetime.fromisoformat(day), cycle="nam-2025", dry_run=False,
                   as_json=False)
    console.print("[bold]thidua remind --today 2025-12-23 --cycle nam-2025[/] (again: "
                  "nothing is sent twice)")
    cli.remind(today=datetime.fromisoformat("2025-12-23"), cycle="nam-2025", dry_run=False,
               as_json=False)
    console.print("[bold]thidua remind --today 2025-12-29 --dry-run[/] (don-doc, cc heads)")
    cli.remind(today=datetime.fromisoformat("2025-12-29"), cycle=None, dry_run=True,
               as_json=False)
    outbox = Paths.from_env().outbox
    subjects = Counter(BytesHeaderParser(policy=policy.default).parsebytes(p.read_bytes())
                       ["Subject"] for p in outbox.glob("*.eml"))
    console.print(f"{sum(subjects.values())} messages in {outbox}:")
    for subject, count in subjects.items():
        console.print(f"  {count:3d} × {subject}")


if __name__ == "__main__":
    main()
