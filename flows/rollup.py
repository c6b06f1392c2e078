"""Rollups for Sở Nội vụ: annual (`nam-YYYY`) and phase-end (`so-ket-2027`,
`tong-ket-2030`).  The files land in `$THIDUA_HOME/reports/<cycle>/v<N>/`; DuckDB
(`rollups`, `rollup_sources`) records each version and the submissions behind it.

Annual: scheduled the working day after the nam-YYYY deadline, 08:00 Asia/Ho_Chi_Minh
(prefect.yaml).  Phase: on demand.  `send_email=True` mails the docx and xlsx to the
Sở Nội vụ address of settings (outbox without SMTP settings); off by default because
the docx still needs its number and signature.
"""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.hooks import ALERT_HOOKS, run_workspace
from pipeline.rollup import report_mail_vi, rollup
from tasks.rollup import run
from thidua import words


def _rollup(
    kind: str, number: int, today: date | None, send_email: bool, tenant: str | None
) -> dict:
    """Run the rollup sequence, then publish a markdown artifact (headline figures,
    file links) and a table (completeness per block)."""
    ws = run_workspace(tenant)
    result, sent = rollup(ws, kind, number, today, send_email, run=run)
    out = result.as_dict()
    if sent is not None:
        out["email"] = sent
        print(report_mail_vi(ws, sent))
    key = result.cycle_id.lower()
    create_markdown_artifact(
        result.markdown(), key=f"rollup-{key}", description=f"Báo cáo tổng hợp {result.rollup_id}"
    )
    create_table_artifact(
        [{words.HEADER.get(k, k): v for k, v in row.items()} for row in result.headline["blocks"]],
        key=f"rollup-{key}-blocks",
        description=f"{result.rollup_id}: tình hình nộp theo khối thi đua",
    )
    print(result.markdown())
    return out


@flow(name="annual-rollup", log_prints=True, **ALERT_HOOKS)
def annual_rollup(
    year: int, today: date | None = None, send_email: bool = False, tenant: str | None = None
) -> dict:
    """Roll up the annual cycle nam-<year>: a new recorded version of every output."""
    # Query DuckDB, write xlsx/docx/charts/data, record provenance, mail when asked
    return _rollup("annual", year, today, send_email, tenant)


@flow(name="phase-rollup", log_prints=True, **ALERT_HOOKS)
def phase_rollup(
    phase: int, today: date | None = None, send_email: bool = False, tenant: str | None = None
) -> dict:
    """Roll up a phase (1: sơ kết 2025–2027, 2: tổng kết 2025–2030), years side by side."""
    # The phase cycle itself, its years and the targets registered in the plan
    return _rollup("phase", phase, today, send_email, tenant)


if __name__ == "__main__":
    annual_rollup(2025)
