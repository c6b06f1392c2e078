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

from flows.hooks import ALERT_HOOKS
from tasks.rollup import build_rollup, email_report
from thidua.rollup.run import RollupResult


def _publish(result: RollupResult, send_email: bool) -> dict:
    """Markdown (headline figures, file links), a table (completeness per block) and,
    when asked, the email to Sở Nội vụ."""
    out = result.as_dict()
    if send_email:
        out["email"] = email_report(result)
        print(f"email to Sở Nội vụ: {out['email']}")
    key = result.cycle_id.lower()
    create_markdown_artifact(result.markdown(), key=f"rollup-{key}",
                             description=f"Rollup {result.rollup_id}")
    create_table_artifact(result.headline["blocks"], key=f"rollup-{key}-blocks",
                          description=f"{result.rollup_id}: completeness per block")
    print(result.markdown())
    return out


@flow(name="annual-rollup", log_prints=True, **ALERT_HOOKS)
def annual_rollup(year: int, today: date | None = None, send_email: bool = False) -> dict:
    """Roll up the annual cycle nam-<year>: a new recorded version of every output."""
    # Roll up: query DuckDB, write xlsx/docx/charts/data, record provenance
    result = build_rollup("annual", year, today)
    # Report (and mail it when asked)
    return _publish(result, send_email)


@flow(name="phase-rollup", log_prints=True, **ALERT_HOOKS)
def phase_rollup(phase: int, today: date | None = None, send_email: bool = False) -> dict:
    """Roll up a phase (1: sơ kết 2025–2027, 2: tổng kết 2025–2030), years side by side."""
    # Roll up: the phase cycle itself, its years and the targets registered in the plan
    result = build_rollup("phase", phase, today)
    # Report (and mail it when asked)
    return _publish(result, send_email)


if __name__ == "__main__":
    annual_rollup(2025)
