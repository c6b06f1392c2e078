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
    step("5. Units send their nam-2025 workbooks: most good, some late or wrong, one corrupt")
    console.print(drop_submissions())
    step("6. thidua collect: archive, parse, GX checks, load, acknowledgments (var/outbox)")
    cli.collect(inbox=None, as_json=False)
    step("7. thidua status --cycle nam-2025: one row per unit")
    cli.status(cycle="nam-2025", as_json=False)
    step("8. thidua problems CQ-YT nam-2025: what the unit is told to fix")
    cli.problems(unit="CQ-YT", cycle="nam-2025", version=None, as_json=False)
    step("9. thidua rollup annual 2025: the report to Sở Nội vụ (xlsx, docx, charts, data)")
    cli.rollup_annual(2025, as_json=False)


# Units that break something in the demo, and how.
DEMO_ERRORS = {"CQ-YT": {"HC04": 150}, "MT-PN": {"TT01": -5},
               "GD-TH1": {"HC01": 40, "HC02": 55, "HC03": 30}, "DN-02": {"DN01": "1.234,5"}}
DEMO_LATE = ("TX-03", "TX-07", "MT-CCB")
DEMO_MISSING = ("TX-12", "TX-13", "DN-06")


def drop_submissions() -> str:
    """Write synthetic nam-2025 submissions into the inbox, dated as if received."""
    import os
    from datetime import datetime, timedelta, timezone

    from thidua import synthetic
    from thidua.workspace import Workspace

    ws = Workspace.from_env()
    cycle = ws.config.cycle("nam-2025")
    vn = timezone(timedelta(hours=7))
    ws.paths.inbox.mkdir(parents=True, exist_ok=True)
    count = 0
    for unit in ws.config.expected_units(cycle):
        if unit.code in DEMO_MISSING:
            continue
        data = synthetic.workbook(ws.config, unit, cycle, overrides=DEMO_ERRORS.get(unit.code))
        when = datetime(2025, 12, 26 if unit.code in DEMO_LATE else 18, 10, tzinfo=vn)
        path = ws.paths.inbox / f"{cycle.id}_{unit.code}.xlsx"
        path.write_bytes(data)
        os.utime(path, (when.timestamp(), when.timestamp()))
        count += 1
    (ws.paths.inbox / "bao-cao-loi.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    return (f"{count} workbooks and 1 corrupt file in {ws.paths.inbox}; "
            f"{len(DEMO_MISSING)} units send nothing")


if __name__ == "__main__":
    main()
