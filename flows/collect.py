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
from thidua.alerts import quarantine_reason_vi

# The artifact is for the officer: Vietnamese columns and values (the flow's return
# value keeps the English keys of `thidua collect --json`).
ARTIFACT_COLUMNS = {
    "unit": "Đơn vị",
    "cycle": "Kỳ báo cáo",
    "outcome": "Kết quả",
    "late": "Muộn",
    "errors": "Lỗi",
    "warnings": "Lưu ý",
    "ack": "Thư xác nhận",
    "file": "Tệp",
}
OUTCOMES_VI = {
    "accepted": "Đã tiếp nhận",
    "accepted_with_warnings": "Tiếp nhận, có lưu ý",
    "rejected": "Chưa đạt",
    "unreadable": "Không đọc được",
    "duplicate": "Trùng lần gửi trước",
}
ACKS_VI = {"sent": "Đã gửi", "failed": "Gửi lỗi", "skipped": "Không có người nhận", "": ""}


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
        rows.append(
            {
                ARTIFACT_COLUMNS["unit"]: r["unit"] or "",
                ARTIFACT_COLUMNS["cycle"]: r["cycle"] or "",
                ARTIFACT_COLUMNS["outcome"]: OUTCOMES_VI.get(r["outcome"], r["outcome"]),
                ARTIFACT_COLUMNS["late"]: "có" if r["late"] else "",
                ARTIFACT_COLUMNS["errors"]: r["errors"],
                ARTIFACT_COLUMNS["warnings"]: r["warnings"],
                ARTIFACT_COLUMNS["ack"]: ACKS_VI.get(r["ack"], r["ack"]),
                ARTIFACT_COLUMNS["file"]: r["file"],
                "Người gửi": sender,
                "Lý do không đọc được": reason,
                "Mã lần gửi": r["submission_id"][:12],
            }
        )
    return rows


@flow(name="collect", log_prints=True, **ALERT_HOOKS)
def collect_flow(inbox: str | None = None) -> dict:
    done = collect(run_workspace(), Path(inbox) if inbox else None, run=run)
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
                    "Đơn vị": q["units"],
                    "Địa chỉ": q["sender"],
                    "Chi tiết": f"{q['subject']} ({quarantine_reason_vi(q['reason'])})",
                }
                for q in mail["quarantined"]
            ]
            + [
                {
                    "Việc": "bị trả lại thư",
                    "Đơn vị": b["unit_code"],
                    "Địa chỉ": b["recipient"],
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
    )
    return done.as_dict()


if __name__ == "__main__":
    collect_flow()
