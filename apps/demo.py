"""`make demo`: the 2025 story of the sample Phong Doanh commune, on a simulated clock.

The plan cycle and the nam-2025 cycle run day by day: reminders on their stage days,
units submitting (good, late, wrong, corrected, one never), collection with
acknowledgments, chasing of late units, and the annual rollup for Sở Nội vụ.  Every
step is a real Prefect flow run (ephemeral API), the warehouse a real DuckDB file,
emails .eml files in the outbox.  A submission's arrival time is its file's mtime, so
dropping a file "on" a day is setting its mtime.

It always starts clean: its home (`$THIDUA_HOME`, default `var/demo`) is wiped first,
but only when it is empty or was made by the demo (a `.thidua-demo` marker).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.rule import Rule

from thidua import words

if TYPE_CHECKING:
    from thidua.config import Cycle, Unit
    from thidua.workspace import Workspace

console = Console(width=max(Console().width, 120))
VN = timezone(timedelta(hours=7))
MARKER = ".thidua-demo"

# Who does what in the story.
PLAN_LATE = {"TX-13": date(2025, 9, 5)}  # plan sent after the deadline
NEVER = ("DN-06",)  # never sends anything
WRONG_FIRST = {  # nam-2025: first version breaks a rule
    "CQ-YT": {"HC04": 150},  # percent above 100
    "CQ-HCC": {"HC01": 4100, "HC02": 5500},  # online dossiers above dossiers received
    "MT-PN": {"TT01": -5},  # negative count
}
WARNED = {"DN-02": {"DN01": "1.234,5"}}  # number typed as Vietnamese text: a warning
LATE_2025 = ("TX-03", "TX-07", "MT-CCB")  # send nam-2025 after 22/12/2025
BROKEN_FROM = "TX-05"  # its mail brings a broken attachment
CORRECTED_ON = {
    "CQ-YT": date(2025, 12, 18),
    "CQ-HCC": date(2025, 12, 18),
    "MT-PN": date(2025, 12, 26),
}  # the corrected version arrives
NO_PLAN_DOCUMENT = ("TX-02", "MT-NCT")  # plan cycle: the workbook alone, no plan


def main() -> None:
    home = _fresh_home()
    from pipeline.init import init_workspace
    from thidua.workspace import Workspace

    ws = Workspace.from_env()
    init_workspace(ws)
    units = ws.config.expected_units(ws.config.cycle("nam-2025"))
    console.print(
        f"Chạy thử thidua trong [bold]{home}[/]: {len(units)} đơn vị của "
        f"{ws.config.settings.commune.authority}, năm 2025 theo đồng hồ mô phỏng"
    )
    _plan_cycle(ws, units)
    _annual_cycle(ws, units)
    council = _council(ws)
    _act("Báo cáo tổng hợp năm gửi Sở Nội vụ, ngày 05/01/2026")
    from flows.rollup import annual_rollup

    _clock(date(2026, 1, 5), 8)
    rollup = annual_rollup(year=2025, today=date(2026, 1, 5))
    _summary(ws, rollup, council)


def _plan_cycle(ws: Workspace, units: list[Unit]) -> None:
    """The plan cycle: all but two send with their plan; one late, one never."""
    cfg = ws.config
    plan = cfg.cycle("ke-hoach-2025")
    _act(
        "Kỳ kế hoạch 2025: hạn theo kế hoạch "
        f"{plan.due_original:%d/%m/%Y}, lùi sang ngày làm việc {plan.due:%d/%m/%Y}"
    )
    _remind(date(2025, 8, 4))  # before the plan exists: nothing
    _remind(date(2025, 8, 21))  # opens 21/08 (the plan's date): mo
    _drop(
        ws,
        plan,
        [u for u in units if u.code not in (*NEVER, *PLAN_LATE)],
        date(2025, 8, 25),
        documents=True,
    )
    _collect(date(2025, 8, 25))
    _remind(date(2025, 8, 27))  # t3: only the two missing
    _remind(date(2025, 9, 4))  # qua-han
    _drop(ws, plan, [cfg.unit(c) for c in PLAN_LATE], date(2025, 9, 5), documents=True)
    _collect(date(2025, 9, 5))
    _remind(date(2025, 9, 10))  # don-doc: cc head + VHXH (not companies)


def _annual_cycle(ws: Workspace, units: list[Unit]) -> None:
    """The nam-2025 cycle: wrong first versions corrected, late units, one never."""
    cfg = ws.config
    nam = cfg.cycle("nam-2025")
    _act(
        f"Kỳ báo cáo năm 2025: hạn theo kế hoạch {nam.due_original:%d/%m/%Y}, lùi sang "
        f"ngày làm việc {nam.due:%d/%m/%Y}"
    )
    _remind(date(2025, 11, 21))  # mo
    _remind(date(2025, 12, 11))  # t7
    on_time = [u for u in units if u.code not in (*NEVER, *LATE_2025)]
    _drop(ws, nam, on_time, date(2025, 12, 15), {**WRONG_FIRST, **WARNED})
    _collect(date(2025, 12, 15))
    _remind(date(2025, 12, 17))  # t3: rejected + missing
    _drop(
        ws,
        nam,
        [cfg.unit(c) for c, d in CORRECTED_ON.items() if d.day == 18],
        date(2025, 12, 18),
        suffix="sua",
    )
    _collect(date(2025, 12, 18))
    _remind(date(2025, 12, 19))  # t1
    _remind(date(2025, 12, 23))  # qua-han
    late = [cfg.unit(c) for c in LATE_2025] + [
        cfg.unit(c) for c, d in CORRECTED_ON.items() if d.day == 26
    ]
    _drop(ws, nam, late, date(2025, 12, 26), suffix="sua")
    _collect(date(2025, 12, 26))
    _remind(date(2025, 12, 29))  # don-doc
    _remind(date(2025, 12, 29), again=True)  # rerun: nothing twice


def _fresh_home() -> Path:
    home = Path(os.environ.setdefault("THIDUA_HOME", str(Path("var/demo").absolute())))
    if home.exists() and any(home.iterdir()) and not (home / MARKER).exists():
        raise SystemExit(
            f"Error: {home} holds data the demo did not make; point "
            "THIDUA_HOME elsewhere (the demo starts by wiping its home)"
        )
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / MARKER).write_text("made by `make demo`; wiped by the next one\n")
    os.environ.pop("THIDUA_SMTP_HOST", None)  # the demo never mails anyone for real
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # the story, not run logs
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    # this one sets its own level to INFO on import ("Created temporary directory …")
    logging.getLogger("great_expectations.data_context.types.base").addFilter(
        lambda record: record.levelno >= logging.WARNING
    )
    return home


def _council(ws: Workspace) -> dict:
    """The Hội đồng Thi đua – Khen thưởng xã meets on 30/12/2025: it refuses the
    proposals of the units that reported late, approves the others; the Chủ tịch's
    Quyết định and the Tờ trình to the province follow the same day."""
    from pipeline import awards
    from thidua.awards import council_members

    _act("Hội đồng Thi đua – Khen thưởng xã họp xét đề nghị khen thưởng, ngày 30/12/2025")
    _clock(date(2025, 12, 30), 8)
    day = date(2025, 12, 30)
    present = [m.name for m in council_members(ws.config.directory)][:6]
    meeting = awards.open_meeting(ws, "nam-2025", day, present, "vhxh")
    rows = [r for r in awards.proposals(ws, "nam-2025") if r["state"] == "de-xuat"]
    refused = [r["id"] for r in rows if r["unit_code"] in LATE_2025]
    approved = [r["id"] for r in rows if r["unit_code"] not in LATE_2025]
    awards.decide(ws, meeting["id"], approved, True, 6, "Đủ tiêu chuẩn", "vhxh")
    if refused:
        awards.decide(ws, meeting["id"], refused, False, 1, "Đơn vị nộp báo cáo muộn", "vhxh")
    by_level = {
        level: [r["id"] for r in rows if r["id"] in approved and r["authority"] == level]
        for level in ("xa", "cap_tren")
    }
    for level, state, number in (
        ("xa", "da-khen-thuong", "15/QĐ-UBND"),
        ("cap_tren", "da-trinh", "16/TTr-UBND"),
    ):
        if by_level[level]:
            awards.record_document(ws, "nam-2025", by_level[level], state, number, day, "vhxh")
    files = awards.documents(ws, "nam-2025", day, meeting["id"])
    console.print(
        f"Phiên họp số {meeting['id']}: {len(present)}/{meeting['members']} thành viên; "
        f"đồng ý {len(approved)} đề nghị, không đồng ý {len(refused)}"
    )
    return {"approved": len(approved), "refused": len(refused), "files": files}


def _act(title: str) -> None:
    console.print(Rule(f"[bold]{title}"))


def _clock(day: date, hour: int, minute: int = 0) -> None:
    """Set the simulated clock (`thidua.clock`): emails' Date headers and time stamps."""
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN)
    os.environ["THIDUA_NOW"] = moment.isoformat()


def _remind(day: date, again: bool = False) -> None:
    from flows.remind import remind

    _clock(day, 8)  # reminders go out at 08:00
    out = remind(today=day)
    sent = Counter((r["cycle_id"], r["stage"]) for r in out["reminders"] if r["status"] == "sent")
    what = ", ".join(
        f"{n} thư “{words.STAGE[stage]}” ({cycle})" for (cycle, stage), n in sorted(sent.items())
    )
    note = " (chạy lại trong ngày)" if again else ""
    console.print(
        f"{day:%d/%m/%Y} thidua remind{note}: "
        f"{what or 'không có đợt nhắc nào đến hạn, không gửi thư nào'}"
    )


def _drop(
    ws: Workspace,
    cycle: Cycle,
    units: list[Unit],
    day: date,
    overrides: dict | None = None,
    suffix: str = "",
    documents: bool = False,
) -> None:
    """Units send their workbook on `day` (10:00 local), with their plan document beside
    it when `documents` (but the units of NO_PLAN_DOCUMENT); the first annual batch also
    brings a mail from a village whose attachment was cut short in transit: it is
    acknowledged to the village, and listed for the officer."""
    from apps.synthetic import drop_into_inbox

    when = datetime(day.year, day.month, day.day, 10, tzinfo=VN)
    plans = tuple(u.code for u in units if u.code not in NO_PLAN_DOCUMENT) if documents else ()
    drop_into_inbox(ws, cycle, units, when, overrides, suffix, documents=plans)
    if cycle.id == "nam-2025" and not suffix:
        path = ws.paths.inbox / "bao-cao-thon.eml"
        path.write_bytes(_broken_mail(ws.config.unit(BROKEN_FROM).email, when))
        os.utime(path, (when.timestamp(), when.timestamp()))
    codes = ", ".join(u.code for u in units) if len(units) <= 6 else f"{len(units)} đơn vị"
    docs = f", {len(plans)} kèm văn bản kế hoạch (.pdf)" if plans else ""
    console.print(f"{day:%d/%m/%Y} đơn vị gửi báo cáo kỳ {cycle.id}: {codes}{docs}")


def _broken_mail(sender: str, when: datetime) -> bytes:
    from email.message import EmailMessage
    from email.utils import format_datetime

    msg = EmailMessage()
    msg["From"], msg["To"] = sender, "vhxh@phongdoanh.example"
    msg["Subject"], msg["Date"] = "Báo cáo thi đua năm 2025", format_datetime(when)
    msg.set_content("Kính gửi Phòng VHXH, thôn gửi báo cáo đính kèm.")
    msg.add_attachment(
        b"PK\x03\x04 cut short in transit",
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="bao-cao-thon.xlsx",
    )
    return bytes(msg)


def _collect(day: date) -> None:
    from flows.collect import collect_flow

    _clock(day, 10, 30)  # half an hour after the files came
    out = collect_flow()
    console.print(f"{day:%d/%m/%Y} thidua collect: {outcomes_line(out['files'])}")


def outcomes_line(files: list[dict]) -> str:
    """How many files got each outcome, in the words of `thidua.words`."""
    outcomes = Counter(r["outcome"] for r in files)
    late = sum(1 for r in files if r.get("late"))
    return (
        "; ".join(f"{words.OUTCOME.get(o, o)}: {n}" for o, n in sorted(outcomes.items()))
        + (f" ({late} gửi muộn)" if late else "")
        + "; đã gửi thư báo nhận cho từng đơn vị"
    )


def _summary(ws: Workspace, rollup: dict, council: dict) -> None:
    from apps import cli
    from thidua.rules import fmt

    _act("Tình hình các kỳ: thidua status --cycle ke-hoach-2025 và --cycle nam-2025")
    cli.status(cycle="ke-hoach-2025", as_json=False)
    cli.status(cycle="nam-2025", as_json=False)
    _act("Đơn vị được báo những gì: thidua problems CQ-YT nam-2025 --version 1")
    cli.problems(unit="CQ-YT", cycle="nam-2025", version=1, as_json=False)

    subjects: Counter[str] = Counter()
    parser = BytesHeaderParser(policy=policy.default)
    for eml in ws.paths.outbox.glob("*.eml"):
        subject = str(parser.parsebytes(eml.read_bytes())["Subject"])
        subjects[subject.split("] ", 1)[-1].split(":")[0][:60]] += 1
    h = rollup["headline"]
    _act("Tóm tắt")
    console.print(f"Số thư đã viết: {sum(subjects.values())}, trong {ws.paths.outbox}")
    for subject, n in subjects.most_common(8):
        console.print(f"  {n:4d} thư “{subject}…”")
    console.print(
        f"nam-2025: {h['expected']} đơn vị phải nộp, {h['submitted']} đã nộp "
        f"({fmt(h['reporting_rate'])}%), {h['on_time']} đúng hạn "
        f"({fmt(h['on_time_rate'])}%), {h['late']} muộn, {h['missing']} chưa nộp"
    )
    console.print(f"Báo cáo tổng hợp {rollup['rollup_id']}: {rollup['output_dir']}")
    for name, path in rollup["files"].items():
        console.print(f"  {name:6} {path}")
    console.print(
        f"Khen thưởng: Hội đồng đồng ý {council['approved']} đề nghị, không đồng ý "
        f"{council['refused']}; Quyết định số 15/QĐ-UBND và Tờ trình số 16/TTr-UBND ngày "
        "30/12/2025:"
    )
    for name, path in council["files"].items():
        console.print(f"  {name:22} {path}")
    console.print(f"Tài liệu kiểm tra dữ liệu (GX): {ws.paths.data_docs / 'index.html'}")
    console.print(f"Kho dữ liệu (DuckDB): {ws.paths.warehouse}")


if __name__ == "__main__":
    main()
