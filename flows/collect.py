"""Collect the inbox: archive → parse and check → load → tidy → acknowledge.

Deployed every 15 minutes (prefect.yaml): the sequence `pipeline.collect.collect`, each
step a task over the whole batch.  The DuckDB warehouse is the record, the table
artifact a summary for the Prefect UI.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.hooks import ALERT_HOOKS, run_workspace
from pipeline.collect import Collected, collect
from tasks.collect import run
from thidua import words

# The artifact is for the officer: Vietnamese columns and values (`thidua.words`); the
# flow's return value keeps the English keys of `thidua collect --json`.
ARTIFACT_COLUMNS = ("unit", "cycle", "outcome", "late", "errors", "warnings", "ack", "file")


def artifact_rows(done: Collected) -> list[dict]:
    """One row per file, in Vietnamese; an unreadable file shows its sender and why."""
    why = {
        ex.incoming.submission_id: (ex.incoming.sender or "", ex.problems[0].message_vi)
        for ex in done.batch.examined
        if ex.parsed is None and ex.problems
    }
    rows = []
    for r in done.files():
        sender, reason = why.get(r["submission_id"], ("", ""))
        shown = r | {
            "unit": r["unit"] or "",
            "cycle": r["cycle"] or "",
            "outcome": words.OUTCOME.get(r["outcome"], r["outcome"]),
            "late": "có" if r["late"] else "",
            "ack": words.SEND_STATUS.get(r["ack"], r["ack"]),
        }
        rows.append(
            {
                **{words.HEADER[c]: shown[c] for c in ARTIFACT_COLUMNS},
                words.HEADER["sender"]: sender,
                "Lý do không đọc được": reason,
                "Mã lần gửi": r["submission_id"][:12],
            }
        )
    return rows


@flow(name="collect", log_prints=True, **ALERT_HOOKS)
def collect_flow(inbox: str | None = None, tenant: str | None = None) -> dict:
    done = collect(run_workspace(tenant), Path(inbox) if inbox else None, run=run)
    rows = artifact_rows(done)
    if rows:  # what the admin scans first leads; the full sha256 is in DuckDB
        unreadable = sum(1 for ex in done.batch.examined if ex.parsed is None)
        create_table_artifact(
            key="collect-outcomes",
            description=(
                f"Lô {done.batch.batch_id}: kết quả từng tệp"
                + (f"; {unreadable} tệp không đọc được" if unreadable else "")
            ),
            table=rows,
        )
    mail = done.mail or {}
    if mail.get("quarantined") or mail.get("bounced"):
        create_table_artifact(
            key="collect-mailbox",
            description=("Hộp thư: thư chuyển vào thư mục cần kiểm tra, và địa chỉ bị trả lại thư"),
            table=[
                {
                    "Việc": "cần kiểm tra",
                    words.HEADER["unit"]: q["units"],
                    words.HEADER["address"]: q["sender"],
                    "Chi tiết": f"{q['subject']} ({words.quarantine_reason(q['reason'])})",
                }
                for q in mail["quarantined"]
            ]
            + [
                {
                    "Việc": "bị trả lại thư",
                    words.HEADER["unit"]: b["unit_code"],
                    words.HEADER["address"]: b["recipient"],
                    "Chi tiết": f"{b['status']} {b['diagnostic'] or ''}",
                }
                for b in mail["bounced"]
            ],
        )
    print(
        f"lô {done.batch.batch_id}: {len(done.batch.arrivals)} tệp trong hộp thư đến, "
        f"nạp {done.loaded} lần gửi, {len(done.batch.duplicates)} trùng, "
        f"{done.tidied['quarantined']} tệp cách ly, "
        f"{int((done.acks['status'] == 'sent').sum())} thư xác nhận đã gửi"
        + (
            f", {done.tidied['changed']} tệp được gửi lại trong lúc chạy, để lần sau"
            if done.tidied["changed"]
            else ""
        )
    )
    return done.as_dict()


if __name__ == "__main__":
    collect_flow()
