"""The `thidua` command line.  Commands stay thin: parse options, call one core
function, print.  Heavy libraries (pandas, DuckDB, Prefect, GX) are imported inside the
commands that need them, so `thidua --help` answers at once."""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from thidua import words
from thidua.errors import ThiduaError

if TYPE_CHECKING:
    from thidua.workspace import Workspace


class _Commands(TyperGroup):
    """The one place a project error (ThiduaError) becomes `Error: …` and exit code 1."""

    def invoke(self, ctx: Any) -> Any:  # click.Context (typer vendors its own click)
        try:
            return super().invoke(ctx)
        except ThiduaError as exc:
            raise _fail(str(exc)) from None


app = typer.Typer(
    cls=_Commands,
    help="thidua: reporting cycles of phong trào thi đua, end to end.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json", help="Print JSON (a stable contract, see docs/cli.md) instead of a table."
    ),
]
CycleOpt = Annotated[str | None, typer.Option("--cycle", help="Cycle id, e.g. nam-2025.")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


def _workspace() -> Workspace:
    """Load config, or stop with exit code 2 and every problem found."""
    from thidua.errors import ConfigError
    from thidua.workspace import Workspace

    try:
        return Workspace.from_env()
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(f"Error: {problem}", err=True)
        raise typer.Exit(2) from None


def _warehouse_workspace(unit: str | None = None, cycle: str | None = None) -> Workspace:
    """The workspace, once the unit and cycle named exist and the warehouse does."""
    ws = _workspace()
    if unit:
        ws.config.unit(unit)
    if cycle:
        ws.config.cycle(cycle)
    if not ws.paths.warehouse.exists():
        raise _fail(f"no warehouse at {ws.paths.warehouse}; run `thidua init` first")
    return ws


def _prefect_api() -> bool:
    """A Prefect API is configured (`make server`, or PREFECT_API_URL): state-changing
    commands then run as flow runs, seen in the UI with their alerts and artifacts.
    Without one they run the same sequence in this process, with no ephemeral server
    to start."""
    return bool(os.environ.get("PREFECT_API_URL"))


def _print_json(data: Any) -> None:
    """Valid JSON whatever the rows hold: NaN and infinities become null, dates ISO."""
    json.dump(_jsonable(data), sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {k: _jsonable(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_jsonable(v) for v in o]
    if isinstance(o, date):
        return o.isoformat()
    if hasattr(o, "item") and not isinstance(o, str | bytes):  # numpy scalars
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if o is not None and not isinstance(o, str | int | float | bool):
        return None if str(o) in ("<NA>", "NaT") else str(o)  # pandas NA, paths
    return o


# Tables are for the officer, in Vietnamese; --json keeps the English keys (a contract).
# Each column's code → its value's word (`thidua.words`); a header is `words.HEADER`
VALUES_VI: dict[str, dict[Any, str]] = {
    "outcome": words.OUTCOME,
    "severity": words.SEVERITY,
    "ack": words.SEND_STATUS,
    "status": words.SEND_STATUS,
    "answers": words.MAIL_KIND,
    **{k: words.REVIEW_STATE for k in ("review", "from_state", "to_state")},
    "kind": words.CYCLE_KIND,
    "stage": words.STAGE,
}


def _print_table(
    title: str,
    rows: list[dict],
    columns: list[str] | None = None,
    tz: tzinfo | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """A rich table; timestamps shown in `tz` (the commune's time zone); `headers`
    names columns the words do not (or name otherwise in this table)."""
    from rich.console import Console
    from rich.table import Table

    columns = columns or (list(rows[0]) if rows else [])
    table = Table(title=title)
    for c in columns:
        table.add_column((headers or {}).get(c) or words.HEADER.get(c, c))
    for row in rows:
        table.add_row(
            *[
                _cell(
                    VALUES_VI.get(c, {}).get(row[c], row[c]) if isinstance(row[c], str) else row[c],
                    tz,
                )
                for c in columns
            ]
        )
    # Piped or captured output has no terminal width: use a readable one, not 80.
    Console(width=None if sys.stdout.isatty() else 140).print(table)


def _cell(value: Any, tz: tzinfo | None) -> str:
    """Table text: dd/mm/yyyy dates, local times for timestamps, có/không for yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


@app.command()
def init() -> None:
    """Create the data directories, migrate the warehouse and load config into it.

    Safe to run again: it changes nothing when nothing changed.
    """
    from pipeline.init import init_workspace

    ws = _workspace()
    summary = init_workspace(ws)
    typer.echo(f"kho dữ liệu  {summary['warehouse']}")
    typer.echo(
        f"bản chuyển đổi đã áp dụng: {summary['migrations_applied'] or 'không có (đã cập nhật)'}"
    )
    typer.echo(
        f"đơn vị: thêm {summary['units_added']}, đổi {summary['units_changed']}, "
        f"thôi {summary['units_retired']}; {summary['indicators']} chỉ tiêu; "
        f"{summary['cycles']} kỳ báo cáo"
    )


@app.command()
def cycles(as_json: JsonOpt = False) -> None:
    """List the reporting cycles (kỳ báo cáo) with their due dates, moved to working days."""
    ws = _workspace()
    rows = [
        {
            "id": c.id,
            "kind": c.kind,
            "title": c.title,
            "year": c.year,
            "phase": c.phase,
            "period_start": c.period_start,
            "period_end": c.period_end,
            "due_original": c.due_original,
            "due_date": c.due,
            "moved": c.due != c.due_original,
            "reward_forms": list(c.reward_forms),
            "expected_units": len(ws.config.expected_units(c)),
        }
        for c in ws.config.cycles
    ]
    if as_json:
        _print_json(rows)
    else:
        _print_table(
            "Các kỳ báo cáo",
            rows,
            [
                "id",
                "kind",
                "period_start",
                "period_end",
                "due_original",
                "due_date",
                "expected_units",
                "title",
            ],
        )


@app.command()
def units(cycle: CycleOpt = None, as_json: JsonOpt = False) -> None:
    """List the registry (đơn vị); with --cycle, only the units that cycle expects."""
    ws = _workspace()
    selected = ws.config.expected_units(ws.config.cycle(cycle)) if cycle else list(ws.config.units)
    rows = [
        {
            "code": u.code,
            "name": u.name,
            "kind": u.kind,
            "block": u.block,
            "email": u.email,
            "head_title": u.head_title,
            "head_email": u.head_email,
            "valid_from": u.valid_from,
            "valid_to": u.valid_to,
        }
        for u in selected
    ]
    if as_json:
        _print_json(rows)
    else:
        _print_table(f"Đơn vị: {len(rows)}", rows, ["code", "name", "kind", "block", "email"])


@app.command()
def status(cycle: CycleOpt = None, as_json: JsonOpt = False) -> None:
    """Per cycle: units expected, submitted, accepted, on time, late and missing.

    With --cycle, also one row per expected unit: latest version, outcome, late, errors,
    warnings, received_at and the version that counts.
    """
    from warehouse.db import connect
    from warehouse.queries import bounced, cycle_status, unit_status, unreadable_files

    ws = _warehouse_workspace(cycle=cycle)
    with connect(ws.paths.warehouse, read_only=True) as con:
        rows = cycle_status(con, cycle)
        per_unit = unit_status(con, cycle) if cycle else None
        bounces = bounced(con)
        unreadable = unreadable_files(con)
    if as_json:
        _print_json(
            {"cycles": rows}
            | ({"units": per_unit} if cycle else {})
            | {"bounced": bounces, "unreadable": unreadable}
        )
        return
    _print_status(ws, cycle, rows, per_unit, bounces, unreadable)


def _print_status(
    ws: Workspace,
    cycle: str | None,
    rows: list[dict],
    per_unit: list[dict] | None,
    bounces: list[dict],
    unreadable: list[dict],
) -> None:
    """The tables of `thidua status`: cycles, bounced addresses, the cycle's units, unreadable."""
    tz = ws.config.settings.calendar.tz
    plan = {c.id for c in ws.config.cycles if c.document_required}
    # the unit's document (plan, written review) is asked for in some cycles: counted there
    _print_table(
        "Tình hình nộp báo cáo theo kỳ",
        [r | {"plan_documents": r["plan_documents"] if r["cycle"] in plan else None} for r in rows],
        tz=tz,
    )
    if bounces:
        _print_table(
            "Địa chỉ bị trả lại thư (sửa trong units.csv)",
            bounces,
            ["unit", "address", "answers", "cycle_id", "stage", "status", "received_at"],
            tz,
        )
    if cycle and per_unit is not None:
        _print_table(
            f"Các đơn vị của kỳ {cycle}",
            [r | {"plan_document": r["plan_document"] or "chưa nhận"} for r in per_unit],
            [
                "unit",
                "version",
                "outcome",
                "late",
                "errors",
                "warnings",
                "received_at",
                "counted_version",
                *(["plan_document"] if cycle in plan else []),
            ],
            tz,
            {"plan_document": ws.config.cycle(cycle).document_vi},
        )
    if unreadable:
        _print_table(
            f"Tệp không đọc được: {len(unreadable)} (đã báo người gửi khi biết địa chỉ)",
            unreadable,
            ["received_at", "unit", "sender", "file", "reason", "ack"],
            tz,
        )


@app.command()
def collect(
    inbox: Annotated[
        str | None,
        typer.Option(
            "--inbox", help="Inbox directory (default $THIDUA_INBOX or $THIDUA_HOME/inbox)."
        ),
    ] = None,
    docs: Annotated[
        bool,
        typer.Option(
            "--docs", help="Also build the GX data docs (the flow run always builds them)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Collect the inbox: archive, parse, check (GX), load, acknowledge each submission.

    A flow run when PREFECT_API_URL is set, else the same sequence in this process.
    """
    ws = _warehouse_workspace()
    if _prefect_api():
        from flows.collect import collect_flow
        from flows.hooks import handing

        with handing(ws):
            result = collect_flow(inbox=inbox)
    else:
        from pipeline.collect import collect as collect_sequence
        from warehouse.db import session

        gx = threading.Thread(target=_import_gx, daemon=True)
        gx.start()  # its import (most of a small batch's time) overlaps the parsing's worker
        with session(ws.paths.warehouse):  # one open for the whole sequence, not one a step
            result = collect_sequence(ws, Path(inbox) if inbox else None, docs).as_dict()
    if as_json:
        _print_json(result)
    else:
        _print_table(
            f"Đã thu {len(result['files'])} tệp, lô {result['batch_id']}",
            result["files"],
            ["unit", "cycle", "outcome", "late", "errors", "warnings", "ack", "file"],
        )


def _import_gx() -> None:
    """Great Expectations, imported ahead of the first check that needs it."""
    import expectations.submissions  # noqa: F401 - imports great_expectations


@app.command()
def problems(
    unit: Annotated[str, typer.Argument(help="Unit code, e.g. CQ-VP.")],
    cycle: Annotated[str, typer.Argument(help="Cycle id, e.g. nam-2025.")],
    version: Annotated[
        int | None, typer.Option("--version", help="A given version (default: the latest).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the problems of a unit's latest submission for a cycle, by sheet and cell."""
    from warehouse.db import connect
    from warehouse.queries import submission_problems

    ws = _warehouse_workspace(unit=unit, cycle=cycle)
    with connect(ws.paths.warehouse, read_only=True) as con:
        rows = submission_problems(con, unit, cycle, version)
    if as_json:
        _print_json(rows)
    else:
        from thidua.acknowledge import where_vi

        _print_table(
            f"Các vấn đề của {unit}, kỳ {cycle}",
            [r | {"cell": where_vi(r["cell"], r["sheet"])} for r in rows],
            ["version", "severity", "cell", "indicator_name", "value", "message_vi"],
        )


@app.command()
def template(
    unit: Annotated[str, typer.Argument(help="Unit code, e.g. CQ-VP.")],
    cycle: Annotated[str, typer.Argument(help="Cycle id, e.g. nam-2025.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="File to write (default: CYCLE_UNIT.xlsx here)."),
    ] = None,
) -> None:
    """Write the prefilled xlsx template (biểu mẫu) of a unit for a cycle; a review's
    shows the unit's accepted figures of each year of the phase, read-only."""
    from pipeline.templates import workbook
    from thidua.template import template_filename

    ws = _workspace()
    u, c = ws.config.unit(unit), ws.config.cycle(cycle)
    path = output or Path(template_filename(u, c))
    path.write_bytes(workbook(ws, u, c))
    typer.echo(f"đã ghi {path}")


@app.command()
def remind(
    today: Annotated[
        datetime | None,
        typer.Option(
            "--today",
            formats=["%Y-%m-%d"],
            help="Act as if it were this day (YYYY-MM-DD); default: today, local.",
        ),
    ] = None,
    cycle: CycleOpt = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print who would get which stage; send and write nothing."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Send the reminders (nhắc hạn) due today: each unit gets a stage at most once.

    A flow run when PREFECT_API_URL is set, else the same sequence in this process.
    """
    from thidua.mailer import SmtpSettings

    ws = _warehouse_workspace(cycle=cycle)
    day = today.date() if today else ws.config.settings.calendar.today()
    if not dry_run:
        SmtpSettings.from_settings(ws.config.settings)  # a wrong THIDUA_SMTP_* stops here
    if _prefect_api():
        from flows.hooks import handing
        from flows.remind import remind as remind_flow

        with handing(ws):
            out = remind_flow(today=day, cycle=cycle, dry_run=dry_run)
    else:
        from pipeline.remind import remind as remind_sequence

        out = remind_sequence(ws, day, cycle, dry_run).as_dict()
    if as_json:
        _print_json(out)
        return
    _print_reminders(day, dry_run, out["stages"], out["reminders"])


def _print_reminders(day: date, dry_run: bool, stages: list[dict], rows: list[dict]) -> None:
    """The tables of `thidua remind`: per cycle and stage, then each message."""
    _print_table(
        f"Nhắc hạn ngày {day:%d/%m/%Y}{' (chạy thử)' if dry_run else ''}",
        stages,
        [
            "cycle_id",
            "stage",
            "units",
            *(["to_send"] if dry_run else ["sent", "failed"]),
            "skipped_sent",
            "skipped_submitted",
        ],
    )
    if rows and dry_run:
        _print_table(
            "Sẽ gửi",
            [{**r, "to": ", ".join(r["to"]), "cc": ", ".join(r["cc"])} for r in rows],
            ["unit_code", "cycle_id", "stage", "to", "cc"],
        )
    elif rows:
        _print_table(
            "Đã gửi", rows, ["unit_code", "cycle_id", "stage", "status", "recipients", "error"]
        )


rollup_app = typer.Typer(
    help="Rollups for Sở Nội vụ: annual and phase-end reports.", no_args_is_help=True
)
app.add_typer(rollup_app, name="rollup")


def _report_date(text: str | None) -> date | None:
    """`--date dd/mm/yyyy`: the day the report is dated; default today (THIDUA_NOW)."""
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date dd/mm/yyyy", param_hint="--date"
        ) from None


DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="Date the report (dd/mm/yyyy); default: today (or THIDUA_NOW). A date on or "
        "before the cycle's due date makes a draft (DỰ THẢO).",
    ),
]


EmailOpt = Annotated[
    bool,
    typer.Option(
        "--email",
        help="Mail the report to the tier above (settings: province_office.email): the docx, "
        "the xlsx and the package (workbook and manifest); the outbox without SMTP settings.",
    ),
]


def _rollup(
    kind: str, number: int, as_json: bool, day: date | None = None, email: bool = False
) -> None:
    """Run one rollup (a flow run when PREFECT_API_URL is set) and print its headline,
    files and, with `--email`, the mail's outcome."""
    from thidua.rollup.result import NO_SUBMISSIONS, draft_note

    ws = _warehouse_workspace()
    if _prefect_api():
        from flows.hooks import handing
        from flows.rollup import annual_rollup, phase_rollup

        with handing(ws):
            out = (annual_rollup if kind == "annual" else phase_rollup)(number, day, email)
        out.setdefault("email", None)  # a stable key: null without --email
    else:
        from pipeline.rollup import rollup

        result, sent = rollup(ws, kind, number, day, send_email=email)
        out = result.as_dict() | {"email": sent}
    if as_json:
        _print_json(out)
        return
    h = out["headline"]
    _print_table(
        f"Tổng hợp {out['rollup_id']}: {h['title']}",
        [
            {
                "expected": h["expected"],
                "submitted": h["submitted"],
                "on_time": h["on_time"],
                "late": h["late"],
                "missing": h["missing"],
                "reporting_rate": h["reporting_rate"],
                "on_time_rate": h["on_time_rate"],
                "sources": h["sources"],
            }
        ],
    )
    if not h["accepted_in_cycle"]:
        typer.echo(NO_SUBMISSIONS.format(cycle=out["cycle"], n=h["expected"]))
    if h["draft"]:
        typer.echo(draft_note(h))
    typer.echo(f"Các tệp trong {out['output_dir']}")
    for name, path in out["files"].items():
        typer.echo(f"  {name:6} {path}")
    if out["email"] is not None:
        from pipeline.rollup import report_mail_vi

        typer.echo(report_mail_vi(ws, out["email"]))


@rollup_app.command("annual")
def rollup_annual(
    year: Annotated[int, typer.Argument(help="Year of the nam-YYYY cycle.")],
    as_json: JsonOpt = False,
    date: DateOpt = None,
    email: EmailOpt = False,
) -> None:
    """Roll up nam-YEAR: completeness, indicators, block scores; xlsx, docx, charts, data.

    Each run records a new version under reports/nam-YEAR/vN/.
    """
    _rollup("annual", year, as_json, _report_date(date), email)


@rollup_app.command("phase")
def rollup_phase(
    phase: Annotated[int, typer.Argument(help="1: so-ket-2027, 2: tong-ket-2030.")],
    as_json: JsonOpt = False,
    date: DateOpt = None,
    email: EmailOpt = False,
) -> None:
    """Roll up a phase: each year side by side, cumulative values, achieved vs targets."""
    _rollup("phase", phase, as_json, _report_date(date), email)


server_app = typer.Typer(
    help="Production mode: a local Prefect server with every "
    "deployment of prefect.yaml and a worker.",
    no_args_is_help=True,
)
app.add_typer(server_app, name="server")
PortOpt = Annotated[
    int, typer.Option("--port", help="Port of the Prefect API and UI (127.0.0.1 only).")
]
TenantsOpt = Annotated[
    Path | None,
    typer.Option(
        "--tenants",
        envvar="THIDUA_TENANTS",
        help="tenants.toml: the communes this deployment hosts (docs/deploy.md).",
    ),
]


@server_app.command("start")
def server_start(
    port: PortOpt = 4200,
    worker: Annotated[bool, typer.Option(help="Also start a worker.")] = True,
    web: Annotated[
        bool | None,
        typer.Option(
            "--web/--no-web",
            help="Also serve the upload and review pages "
            "(thidua web); default: when the web secret key "
            "is set.",
        ),
    ] = None,
    tenants: TenantsOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Address of the Prefect API (other hosts' workers).")
    ] = "127.0.0.1",
) -> None:
    """Start the Prefect server (SQLite under THIDUA_HOME/prefect, or the PostgreSQL of
    PREFECT_API_DATABASE_CONNECTION_URL), create the `thidua` work pool and the
    `duckdb-writer` limits, deploy prefect.yaml (once per tenant with --tenants), start a
    worker and the web app."""
    from apps.server import Server

    ws = _workspace()
    server = Server(ws.paths.home, port, host, tenants)
    has_key = tenants is not None or ws.config.settings.web.secret_key is not None
    with_web = has_key if web is None else web
    server.start(worker=worker, web=with_web)
    if with_web:
        w = ws.config.settings.web
        typer.echo(
            f"trang web    http://{w.host}:{w.port}  (cán bộ: /officer; nhật ký "
            f"{server.state / 'logs' / 'web.log'})"
        )
    typer.echo(f"Prefect UI   {server.ui_url}")
    typer.echo(
        f"Prefect API  {server.api_url}  (export PREFECT_API_URL={server.api_url} để "
        "các lệnh thidua chạy trên máy chủ này)"
    )
    typer.echo(f"nhật ký      {server.state / 'logs'}")


@server_app.command("stop")
def server_stop(port: PortOpt = 4200) -> None:
    """Stop the web app, the worker and the Prefect server started by `thidua server start`."""
    from apps.server import Server

    stopped = Server(_workspace().paths.home, port).stop()
    typer.echo(f"đã dừng: {', '.join(stopped) or 'không có gì đang chạy'}")


@server_app.command("status")
def server_status(port: PortOpt = 4200) -> None:
    """Is the server healthy, is the worker running?"""
    from apps.server import Server

    server = Server(_workspace().paths.home, port)
    typer.echo(f"máy chủ  {'hoạt động tại ' + server.ui_url if server.healthy() else 'không chạy'}")
    typer.echo(f"worker   {'đang chạy' if server.running('worker') else 'đã dừng'}")
    typer.echo(f"web      {'đang chạy' if server.running('web') else 'đã dừng'}")


UnitArg = Annotated[str, typer.Argument(help="Unit code, e.g. CQ-VP.")]
CycleArg = Annotated[str, typer.Argument(help="Cycle id, e.g. nam-2025.")]


@app.command()
def link(
    unit: UnitArg,
    cycle: CycleArg,
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Revoke the unit's links for the cycle instead.")
    ] = False,
) -> None:
    """Print the unit's upload link for a cycle (its live one, or a new one).

    Needs the web secret key (THIDUA_WEB_SECRET_KEY or secrets.toml).  With --revoke,
    every link of the unit for the cycle stops working (the page then says whom to
    contact); the next `thidua link` makes a new one.
    """
    from pipeline.links import make_link, revoke_links

    ws = _warehouse_workspace(unit=unit, cycle=cycle)
    if revoke:
        typer.echo(f"đã thu hồi {revoke_links(ws, unit, cycle)} đường dẫn của {unit}, kỳ {cycle}")
    else:
        typer.echo(make_link(ws, unit, cycle))


review_app = typer.Typer(
    help="The officer's review of a unit's latest version: "
    "approve, return (emailed to the unit) or reject.",
    no_args_is_help=True,
)
app.add_typer(review_app, name="review")
CommentOpt = Annotated[
    str | None, typer.Option("--comment", "-m", help="Comment (required to return or reject).")
]
ActorOpt = Annotated[str, typer.Option("--by", help="Who decides (recorded in the review log).")]


@review_app.command("list")
def review_list(unit: UnitArg, cycle: CycleArg, as_json: JsonOpt = False) -> None:
    """The unit's versions for a cycle with their review states, and the review log."""
    from pipeline.review import unit_view

    ws = _warehouse_workspace(unit=unit, cycle=cycle)
    view = unit_view(ws, unit, cycle)
    if as_json:
        _print_json({"versions": view["versions"], "log": view["log"]})
        return
    tz = ws.config.settings.calendar.tz
    _print_table(
        f"Các lần gửi của {unit}, kỳ {cycle}",
        view["versions"],
        ["version", "received_at", "outcome", "errors", "warnings", "review"],
        tz,
    )
    _print_table(
        "Nhật ký duyệt",
        view["log"],
        ["version", "decided_at", "from_state", "to_state", "actor", "comment"],
        tz,
    )


def _decide(verb: str, unit: str, cycle: str, comment: str | None, actor: str) -> None:
    from pipeline.review import decide

    ws = _warehouse_workspace(unit=unit, cycle=cycle)
    out = decide(ws, unit, cycle, verb, actor, comment)
    mail = ""
    if out["email"]:  # "sent", or "failed: why"
        status, _, why = out["email"].partition(": ")
        mail = f" (thư báo cho đơn vị: {words.SEND_STATUS.get(status, status)}"
        mail += f", {why})" if why else ")"
    typer.echo(
        f"{unit} {cycle} lần gửi {out['version']}: {words.REVIEW_STATE[out['from_state']]} → "
        f"{words.REVIEW_STATE[out['to_state']]}{mail}"
    )


@review_app.command("approve")
def review_approve(
    unit: UnitArg, cycle: CycleArg, comment: CommentOpt = None, by: ActorOpt = "cli"
) -> None:
    """Approve the latest version (it must be accepted); it is then locked."""
    _decide("approve", unit, cycle, comment, by)


@review_app.command("return")
def review_return(
    unit: UnitArg, cycle: CycleArg, comment: CommentOpt = None, by: ActorOpt = "cli"
) -> None:
    """Return the latest version to the unit to fix; emails it the comment and its link."""
    _decide("return", unit, cycle, comment, by)


@review_app.command("reject")
def review_reject(
    unit: UnitArg, cycle: CycleArg, comment: CommentOpt = None, by: ActorOpt = "cli"
) -> None:
    """Reject the latest version (comment required)."""
    _decide("reject", unit, cycle, comment, by)


awards_app = typer.Typer(
    help="The commendation path: the Hội đồng Thi đua – Khen thưởng xã's meetings, its "
    "decisions with their votes, the Quyết định and Tờ trình (docs/khen-thuong.md).",
    no_args_is_help=True,
)
app.add_typer(awards_app, name="khen-thuong")
IdsArg = Annotated[list[str], typer.Argument(help="Proposal ids (from `khen-thuong list`).")]
NoteOpt = Annotated[str | None, typer.Option("--note", "-m", help="Note (ghi chú).")]


def _day(text: str, option: str) -> date:
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date dd/mm/yyyy", param_hint=option) from None


@awards_app.command("list")
def awards_list(cycle: CycleArg, as_json: JsonOpt = False) -> None:
    """Every proposal of the cycle with its state (refused ones too), highest form first."""
    from pipeline.awards import proposals

    ws = _warehouse_workspace(cycle=cycle)
    rows = proposals(ws, cycle)
    keys = [
        "id",
        "unit_code",
        "subject_type",
        "name",
        "reward_form",
        "decided_by",
        "state",
        "change",
        "votes_for",
        "members",
        "doc_no",
        "doc_date",
        "warning",
    ]
    if as_json:
        _print_json([{k: r[k] for k in keys} for r in rows])
        return
    shown = {
        "id": "Mã",
        "unit_code": "Đơn vị",
        "subject_type": "Đối tượng",
        "name": "Tên",
        "form_vi": "Hình thức",
        "decided_by": "Thẩm quyền, tuyến trình",
        "state_vi": "Trạng thái",
        "change_vi": "Thay đổi",
        "warning": "Lưu ý",
    }
    table = [{v: r[k] for k, v in shown.items()} for r in rows]
    _print_table(f"Đề nghị khen thưởng, kỳ {cycle}", table, list(shown.values()))


@awards_app.command("meeting")
def awards_meeting(
    cycle: CycleArg,
    held_on: Annotated[str, typer.Option("--date", help="Day of the meeting, dd/mm/yyyy.")],
    present: Annotated[
        list[str], typer.Option("--present", help="A member present (config/council.yaml).")
    ],
    by: ActorOpt = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Open a meeting of the council for a cycle; prints its number."""
    from pipeline.awards import open_meeting

    ws = _warehouse_workspace(cycle=cycle)
    out = open_meeting(ws, cycle, _day(held_on, "--date"), present, by)
    if as_json:
        _print_json(out)
        return
    typer.echo(
        f"Phiên họp số {out['id']} ngày {out['held_on']:%d/%m/%Y}, kỳ {cycle}: "
        f"{len(present)}/{out['members']} thành viên có mặt"
    )


@awards_app.command("decide")
def awards_decide(
    meeting_id: Annotated[int, typer.Argument(help="Meeting number.")],
    ids: IdsArg,
    votes_for: Annotated[int, typer.Option("--votes", help="Số phiếu đồng ý.")],
    approve: Annotated[bool, typer.Option("--approve/--refuse", help="The council's decision.")],
    note: NoteOpt = None,
    by: ActorOpt = "cli",
) -> None:
    """Record the council's decision on proposals, with its vote over all its members."""
    from pipeline.awards import decide
    from thidua.awards import STATE_VI

    out = decide(_warehouse_workspace(), meeting_id, ids, approve, votes_for, note, by)
    typer.echo(
        f"{len(out['ids'])} đề nghị: {STATE_VI[out['to_state']]} "
        f"({out['votes_for']}/{out['members']} phiếu đồng ý)"
    )


@awards_app.command("document")
def awards_document(
    cycle: CycleArg,
    ids: IdsArg,
    state: Annotated[
        str,
        typer.Option(
            "--state",
            help="da-khen-thuong (Quyết định of the Chủ tịch UBND xã), da-trinh (Tờ trình), "
            "cap-tren-quyet-dinh or cap-tren-khong-dong-y (the answer received).",
        ),
    ],
    number: Annotated[str, typer.Option("--number", help="Số văn bản, e.g. 12/QĐ-UBND.")],
    day: Annotated[str, typer.Option("--date", help="Ngày văn bản, dd/mm/yyyy.")],
    note: NoteOpt = None,
    by: ActorOpt = "cli",
) -> None:
    """Record the document that moved proposals on: its number and date."""
    from pipeline.awards import record_document
    from thidua.awards import STATE_VI

    ws = _warehouse_workspace(cycle=cycle)
    out = record_document(ws, cycle, ids, state, number, _day(day, "--date"), by, note)
    typer.echo(f"{len(out['ids'])} đề nghị: {STATE_VI[state]} ({number})")


@awards_app.command("documents")
def awards_documents(
    cycle: CycleArg,
    meeting_id: Annotated[
        int | None, typer.Option("--meeting", help="Also the biên bản of this meeting.")
    ] = None,
    day: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the Quyết định and Tờ trình (docx, with their danh sách as xlsx) from what the
    council approved, and a meeting's biên bản; prints their paths."""
    from pipeline.awards import documents
    from thidua.clock import now

    ws = _warehouse_workspace(cycle=cycle)
    files = documents(ws, cycle, _report_date(day) or now().date(), meeting_id)
    if as_json:
        _print_json({k: str(v) for k, v in files.items()})
        return
    for name, path in files.items():
        typer.echo(f"{name}: {path}")


register_app = typer.Typer(
    help="The register of awards decided: the council's path and awards entered by hand "
    "for what was decided outside thidua (docs/khen-thuong.md).",
    no_args_is_help=True,
)
awards_app.add_typer(register_app, name="register")
REGISTER_SHOWN = {
    "doc_date": "Ngày QĐ",
    "doc_no": "Số QĐ",
    "form_vi": "Hình thức",
    "subject_type": "Đối tượng",
    "name": "Tên",
    "birth_year": "Năm sinh",
    "gender": "Giới tính",
    "unit_name": "Đơn vị",
    "origin": "Nguồn",
    "actor": "Người nhập",
}


@register_app.command("add")
def register_add(
    name: Annotated[str, typer.Option("--name", help="Họ tên hoặc tên tập thể.")],
    subject: Annotated[str, typer.Option("--subject", help="Tập thể, Cá nhân, Hộ gia đình.")],
    form: Annotated[str, typer.Option("--form", help="Hình thức: code or name.")],
    number: Annotated[str, typer.Option("--number", help="Số quyết định.")],
    day: Annotated[str, typer.Option("--date", help="Ngày quyết định, dd/mm/yyyy.")],
    birth_year: Annotated[str | None, typer.Option("--birth-year", help="Năm sinh.")] = None,
    gender: Annotated[str | None, typer.Option("--gender", help="Nam or Nữ.")] = None,
    position: Annotated[str | None, typer.Option("--position", help="Chức vụ.")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Đơn vị công tác.")] = None,
    cycle: Annotated[str | None, typer.Option("--cycle", help="Cycle rewarded.")] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="Thành tích.")] = None,
    by: ActorOpt = "cli",
) -> None:
    """Enter an award decided outside thidua (checked like a row of the danh sách)."""
    from pipeline.register import add
    from thidua.register import check_entry

    ws = _warehouse_workspace()
    raw = {
        "name": name,
        "subject_type": subject,
        "reward_form": form,
        "doc_no": number,
        "doc_date": day,
        "birth_year": birth_year,
        "gender": gender,
        "position": position,
        "unit_name": unit,
        "cycle_id": cycle,
        "summary": summary,
    }
    [entry_id] = add(ws, [check_entry(ws.config, raw, "Khen thưởng nhập tay")], by)
    typer.echo(f"Đã ghi vào sổ khen thưởng (số {entry_id}): {name}")


@register_app.command("import")
def register_import(
    path: Annotated[Path, typer.Argument(help="Danh sách workbook (.xlsx), headers in row 1.")],
    by: ActorOpt = "cli",
) -> None:
    """Enter every row of a danh sách workbook; a wrong row refuses the whole file."""
    from pipeline.register import import_xlsx

    ids = import_xlsx(_warehouse_workspace(), path, by)
    typer.echo(f"Đã ghi {len(ids)} khen thưởng vào sổ từ {path.name}")


@register_app.command("list")
def register_list(as_json: JsonOpt = False) -> None:
    """Every award of the register, by decision date."""
    from pipeline.register import entries

    rows = entries(_warehouse_workspace())
    if as_json:
        keys = ["origin", "cycle_id", "unit_code", "unit_name", "subject_type", "name"]
        keys += ["position", "reward_form", "birth_year", "gender", "doc_no", "doc_date"]
        _print_json([{k: r[k] for k in [*keys, "actor", "recorded_at"]} for r in rows])
        return
    for r in rows:
        r["doc_date"] = f"{r['doc_date']:%d/%m/%Y}" if r["doc_date"] else ""
        r["origin"] = words.REGISTER_ORIGIN.get(r["origin"], f"Tệp {r['origin']}")
    table = [{v: r[k] for k, v in REGISTER_SHOWN.items()} for r in rows]
    _print_table("Sổ theo dõi khen thưởng", table, list(REGISTER_SHOWN.values()))


web_app = typer.Typer(
    help="The units' upload page and the officer's review pages.", invoke_without_command=True
)
app.add_typer(web_app, name="web")


@web_app.callback()
def web(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            "--host", help="Address to listen on (default web.host of settings, 127.0.0.1)."
        ),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port (default web.port of settings, 8000).")
    ] = None,
    tenants: TenantsOpt = None,
) -> None:
    """Serve the web app with uvicorn (needs THIDUA_WEB_SECRET_KEY or secrets.toml); with
    a tenants list, every commune's site under /t/<tenant>/ (docs/deploy.md)."""
    if ctx.invoked_subcommand:
        return
    import uvicorn

    from apps.web.app import create_app, create_tenants_app
    from thidua.tenants import load_tenants

    ws = _workspace() if tenants else _warehouse_workspace()
    application = create_tenants_app(load_tenants(tenants)) if tenants else create_app(ws)
    web_settings = ws.config.settings.web
    uvicorn.run(
        application,
        host=host or web_settings.host,
        port=port or web_settings.port,
        log_level="info",
    )


@web_app.command("hash-password")
def web_hash_password() -> None:
    """Ask for the officer's password and print its hash, for secrets.toml (web section)
    officer_password_hash or THIDUA_WEB_OFFICER_PASSWORD_HASH."""
    from thidua.passwords import hash_password

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    typer.echo(hash_password(password))


def main() -> None:  # pragma: no cover - console entry for `python -m apps`
    app(prog_name="thidua")
