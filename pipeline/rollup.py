"""Rollups: query DuckDB, write the files of a new version, record its provenance, and
(when asked) mail the report to Sở Nội vụ.

`rollup` is the one sequence, shared by `thidua rollup` and the rollup flows.  Each run
writes `reports/<cycle>/v<N>/` (xlsx, docx, charts/, data/) and one row in `rollups`
plus the submission versions behind it in `rollup_sources`.  Old versions stay.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pipeline.package import write_package
from pipeline.steps import Runner, call
from thidua import words
from thidua.clock import now
from thidua.config import Cycle
from thidua.exports import excel_safe
from thidua.rollup.model import (
    annual_cycle,
    is_draft,
    period_of,
    phase_cycle,
    phase_years,
    plan_cycle,
    plan_for,
    ratio_names,
)
from thidua.rollup.result import RollupResult
from thidua.rollup.texts import EDITABLE_FILE, EditableTexts
from thidua.workspace import Workspace
from warehouse.db import connect


def rollup(
    ws: Workspace,
    kind: str,
    number: int,
    today: date | None = None,
    send_email: bool = False,
    run: Runner = call,
) -> tuple[RollupResult, dict | None]:
    """Build a new version of the annual (`kind="annual"`, `number` = year) or phase
    rollup, then mail it to Sở Nội vụ when asked; returns the result and the email's
    outcome (None when not asked)."""
    result = run(build, ws, kind, number, today)
    sent = run(email_report, ws, result) if send_email else None
    return result, sent


def build(ws: Workspace, kind: str, number: int, today: date | None = None) -> RollupResult:
    """One new recorded version of every output of the rollup."""
    return (run_annual if kind == "annual" else run_phase)(ws, number, today)


def email_report(ws: Workspace, result: RollupResult) -> dict:
    """Mail the docx, xlsx and package to the tier above, or, without SMTP settings,
    write the message to the outbox.  `status` says which: "sent", "outbox" (`outbox`:
    the .eml kept) or "failed" (`error`: why); `ok` is true for sent and kept alike."""
    from thidua.mailer import kept_in_outbox
    from thidua.rollup.mail import send_report

    sent = send_report(ws, result)
    kept = kept_in_outbox(ws.config.settings, ws.paths.outbox, sent)
    return {
        "ok": sent.status == "sent",
        "status": "outbox" if kept else sent.status,
        "to": ws.config.settings.province_office.email,
        "outbox": str(kept) if kept else None,
        "message_id": sent.message_id,
        "error": sent.error,
    }


def report_mail_vi(ws: Workspace, sent: dict) -> str:
    """What became of the report mail, in a sentence for the officer."""
    office = ws.config.settings.province_office
    return words.REPORT_MAIL[sent["status"]].format(
        name=office.name, email=office.email, outbox=sent["outbox"], error=sent["error"]
    )


def run_annual(ws: Workspace, year: int, today: date | None = None) -> RollupResult:
    """The annual rollup of `nam-<year>` for Sở Nội vụ, as a new recorded version."""
    return _run(ws, annual_cycle(ws.config, year), "annual", today)


def run_phase(ws: Workspace, phase: int, today: date | None = None) -> RollupResult:
    """The phase-end rollup (1: so-ket-2027, 2: tong-ket-2030), as a new recorded version."""
    return _run(ws, phase_cycle(ws.config, phase), "phase", today)


def _run(ws: Workspace, cycle: Cycle, kind: str, today: date | None) -> RollupResult:
    from thidua.rollup import charts, docx_report, xlsx_report
    from warehouse.writer import record_rollup

    cfg = ws.config
    today = today or now(cfg.settings.calendar.tz).date()
    years = phase_years(cfg, cycle) if kind == "phase" else []
    tables, version = _read(ws, cycle, kind, years, today)
    # Write the files of the new version
    rollup_id = f"{cycle.id}-v{version}"
    out = ws.paths.reports / cycle.id / f"v{version}"
    headline = _headline(tables, cycle, rollup_id) | {
        "counts": cfg.settings.web.rollup_counts,
        "date": today.isoformat(),
        "draft": is_draft(cycle, today),
    }
    files = _write_files(out, tables, cfg.settings.calendar.timezone)
    texts = EditableTexts(ws.paths.reports / cycle.id / EDITABLE_FILE)
    ctx: dict[str, Any] = {
        "cfg": cfg,
        "cycle": cycle,
        "kind": kind,
        "rollup_id": rollup_id,
        "years": years,
        "today": today,
        "headline": headline,
        "texts": texts,
    }
    files["charts"] = out / "charts"
    chart_files = charts.draw(out / "charts", tables, ctx)
    files["xlsx"] = xlsx_report.write(out / f"tong-hop-{cycle.id}.xlsx", tables, ctx)
    if kind == "phase":
        files["worklist"] = xlsx_report.write_worklist(
            out / f"doi-chieu-{cycle.id}.xlsx", tables, ctx
        )
    files["docx"] = docx_report.write(out / f"bao-cao-{cycle.id}.docx", tables, ctx, chart_files)
    files["texts"] = texts.save()
    files |= write_package(cfg, cycle, tables, out)
    headline["files"] = {k: str(v) for k, v in files.items()}
    # Record the version and its provenance (one short write transaction)
    with connect(ws.paths.warehouse) as con:
        record_rollup(
            con,
            cycle.id,
            kind,
            version,
            str(out),
            headline,
            tables["sources"]["submission_id"].tolist(),
        )
    return RollupResult(rollup_id, cycle.id, kind, version, out, headline, ratio_names(cfg), files)


def _read(
    ws: Workspace, cycle: Cycle, kind: str, years: list[Cycle], today: date
) -> tuple[dict, int]:
    """Every table of the rollup in one read-only session (temp tables live in it), and
    the number of the version about to be written.  A phase also reads the register of
    awards decided from the phase's start to the report's date (`register`)."""
    from thidua.rollup import phase
    from warehouse import rollups

    cfg = ws.config
    plan = plan_for(cfg, cycle) if kind == "phase" else None
    source_cycles = [cycle.id, *(c.id for c in years), *([plan.id] if plan else [])]
    with connect(ws.paths.warehouse, read_only=True) as con:
        rollups.prepare(con, cfg.settings.rollup, source_cycles, cfg.settings.web.rollup_counts)
        targets = (
            rollups.Targets(
                plan.id, f"target_{cycle.year}", [i.code for i in cfg.indicators if i.target]
            )
            if plan
            else None
        )
        plans = plan or plan_cycle(cfg, cycle)
        tables = rollups.cycle_tables(
            con, cycle.id, cfg.settings.scoring, plans.id if plans else None, targets
        )
        if kind == "phase":
            tables |= rollups.phase_tables(
                con,
                [c.id for c in years],
                plan.id if plan else None,
                f"target_{cycle.year}",
                cycle.id,
            )
            tables["achievement"] = phase.achievement(tables, cfg)
            tables["register"] = rollups.register_tally(con, period_of(cycle)[0], today)
        tables["sources"] = rollups.source_submissions(con, source_cycles)
        return tables, rollups.next_rollup_version(con, cycle.id)


# The commune's completeness figures the headline quotes
COMMUNE_COUNTS = (
    "expected",
    "submitted",
    "on_time",
    "late",
    "missing",
    "reporting_rate",
    "on_time_rate",
)


def _headline(tables: dict, cycle: Cycle, rollup_id: str) -> dict[str, Any]:
    """The figures quoted in the docx, the Prefect artifact and `--json`."""
    comp = tables["completeness"]
    rows = comp[comp["level"] == "commune"].to_dict("records")
    # a cycle that expects nobody has no commune row: every count is 0
    commune = rows[0] if rows else dict.fromkeys(COMMUNE_COUNTS, 0)
    ratios = tables["ratios"]
    ratios = ratios[ratios["level"] == "commune"]
    sources = tables["sources"]
    return {
        "cycle": cycle.id,
        "title": cycle.title,
        "rollup_id": rollup_id,
        **{k: _plain(commune[k]) for k in COMMUNE_COUNTS},
        "ratios": {r: _plain(p) for r, p in zip(ratios["ratio"], ratios["pct"])},
        "blocks": [
            {k: _plain(v) for k, v in row.items() if k != "level"}
            for row in comp[comp["level"] == "block"].to_dict("records")
        ],
        "initiatives": len(tables["initiatives"]),
        "proposals": len(tables["proposals"]),
        "sources": len(sources),
        "accepted_in_cycle": int((sources["cycle_id"] == cycle.id).sum()),
    }


def _plain(v: Any) -> Any:
    """numpy scalars → Python numbers for JSON; NaN → None."""
    import pandas as pd

    if v is None or pd.isna(v):
        return None
    return v.item() if hasattr(v, "item") else v


def _write_files(out: Path, tables: dict, timezone: str) -> dict[str, Path]:
    """Every table as CSV (UTF-8 with BOM, opens in Excel; times in the commune's local
    time, with their offset) and Parquet (times as stored) under data/."""
    import pandas as pd

    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        local = df.copy()
        for col in local.columns:
            if isinstance(local[col].dtype, pd.DatetimeTZDtype):
                local[col] = local[col].dt.tz_convert(timezone)
        excel_safe(local).to_csv(data / f"{name}.csv", index=False, encoding="utf-8-sig")
        df.to_parquet(data / f"{name}.parquet", index=False)
    return {"data": data}
