"""The commendation path behind `thidua khen-thuong …` and the council's web pages: the
council's meetings, its decisions with their votes, the Quyết định and Tờ trình recorded,
each a row of the append-only `proposal_log` (`thidua.awards` says which are allowed).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from thidua.awards import (
    APPROVED,
    CHANGE_VI,
    COUNCIL,
    STATE_VI,
    AwardRefused,
    Vote,
    check_change,
    council_members,
)
from thidua.register import award_vi, repeat_warning, same_subject
from thidua.words import REPORTING_STATUS
from thidua.workspace import Workspace
from warehouse.db import WAREHOUSE_LOCK, connect
from warehouse.queries import award_register, council_meetings, proposal_history, proposal_states
from warehouse.rollups import prepare, unit_scores
from warehouse.writer import open_meeting as write_meeting
from warehouse.writer import record_proposal_change


def open_meeting(ws: Workspace, cycle: str, held_on: date, present: list[str], actor: str) -> dict:
    """A council meeting of `cycle` on `held_on`, with the members present (names of
    `config/council.yaml`); votes later count over all its members."""
    ws.config.cycle(cycle)
    members = [m.name for m in council_members(ws.config.directory)]
    unknown = [p for p in present if p not in members]
    if unknown or not present:
        raise AwardRefused(
            f"không có trong danh sách Hội đồng: {', '.join(unknown)}"
            if unknown
            else "cần chọn các thành viên Hội đồng có mặt"
        )
    with WAREHOUSE_LOCK, connect(ws.paths.warehouse) as con:
        meeting_id = write_meeting(con, cycle, held_on, present, len(members), actor)
    return {
        "id": meeting_id,
        "cycle": cycle,
        "held_on": held_on,
        "present": present,
        "members": len(members),
    }


def meeting(ws: Workspace, meeting_id: int) -> dict:
    """One meeting, or AwardRefused when there is none of this number."""
    with connect(ws.paths.warehouse, read_only=True) as con:
        found = [m for m in council_meetings(con) if m["id"] == meeting_id]
    if not found:
        raise AwardRefused(f"không có phiên họp số {meeting_id}")
    return found[0]


def proposals(ws: Workspace, cycle: str) -> list[dict]:
    """Every proposal of the cycle with its state, the form's decider sentence, what
    changed since the council decided, the subject's earlier awards from the register
    (`history`) and a warning when one of them is of the same or a higher form within
    `[awards] repeat_within` (`thidua.register.repeat_warning`)."""
    cfg = ws.config
    cfg.cycle(cycle)
    with connect(ws.paths.warehouse, read_only=True) as con:
        rows = proposal_states(con, cycle)
        register = award_register(con)
    for r in rows:
        rule = cfg.reward_rules.get(r["reward_form"])
        r["form_vi"] = rule.name if rule else r["reward_form"]
        r["decided_by"] = rule.decided_by if rule else ""
        r["authority"] = rule.authority if rule else None
        r["state_vi"] = STATE_VI[r["state"]]
        r["change_vi"] = CHANGE_VI.get(r["change"] or "")
        earlier = [
            a for a in register if same_subject(a, r) and a["proposal_key"] != r["proposal_key"]
        ]
        r["history"] = [award_vi(cfg, a) for a in earlier]
        r["warning"] = repeat_warning(cfg, earlier, r) if r["state"] != "khong-hop-le" else None
    rows.sort(key=lambda r: (cfg.form_rank(r["reward_form"]), r["unit_code"], r["row_no"]))
    return rows


def standing(ws: Workspace, cycle: str) -> dict[str, dict]:
    """What the council weighs beside each unit's proposals, as the rollup computes it:
    the unit's report on time or how many days late (its first accepted version: a
    correction sent later does not make it later), its data-quality points and its
    block score and rank.  Keyed by unit code."""
    cfg = ws.config
    due = cfg.cycle(cycle).due
    tz = cfg.settings.calendar.tz
    with connect(ws.paths.warehouse, read_only=True) as con:
        prepare(con, cfg.settings.rollup, [cycle], cfg.settings.web.rollup_counts)
        units = unit_scores(con, cycle, cfg.settings.scoring)
    out = {}
    for u in units.to_dict("records"):
        received = u["first_received_at"]
        late_days = (
            (received.tz_convert(tz).date() - due).days
            if u["status"] == "late" and pd.notna(received)
            else None
        )
        out[u["code"]] = {
            "status": u["status"],
            "status_vi": REPORTING_STATUS[u["status"]],
            "days_late": late_days,
            "quality": _number(u["score_quality"]),
            "score": _number(u["score"]),
            "rank_in_block": _number(u["rank_in_block"]),
            "block": cfg.settings.blocks.get(u["block"], u["block"]),
        }
    return out


def _number(v: float | None) -> float | None:
    """A rollup figure for the page: pandas' NA (an unscored kind) becomes None."""
    return None if v is None or pd.isna(v) else float(v)


def history(ws: Workspace, cycle: str) -> list[dict]:
    with connect(ws.paths.warehouse, read_only=True) as con:
        return proposal_history(con, cycle)


def decide(
    ws: Workspace,
    meeting_id: int,
    ids: list[str],
    approve: bool,
    votes_for: int,
    note: str | None,
    actor: str,
) -> dict:
    """The council's decision at a meeting on proposals `ids`, with its vote over all
    the council's members."""
    m = meeting(ws, meeting_id)
    vote = Vote(votes_for, m["members"], (note or "").strip() or None)
    to_state = "hoi-dong-dong-y" if approve else "hoi-dong-khong-dong-y"
    change = {
        "to_state": to_state,
        "actor": actor,
        "meeting_id": meeting_id,
        "votes_for": vote.votes_for,
        "members": vote.members,
        "note": vote.note,
    }
    return _change(ws, m["cycle_id"], ids, change, vote)


def record_document(
    ws: Workspace,
    cycle: str,
    ids: list[str],
    to_state: str,
    doc_no: str,
    doc_date: date,
    actor: str,
    note: str | None = None,
) -> dict:
    """A Quyết định (`da-khen-thuong`), a Tờ trình (`da-trinh`) or the answer received
    from above (`cap-tren-quyet-dinh`, `cap-tren-khong-dong-y`), with its number and date."""
    change = {
        "to_state": to_state,
        "actor": actor,
        "doc_no": (doc_no or "").strip(),
        "doc_date": doc_date,
        "note": (note or "").strip() or None,
    }
    return _change(ws, cycle, ids, change, None)


def _change(ws: Workspace, cycle: str, ids: list[str], change: dict, vote: Vote | None) -> dict:
    """Check each proposal's change, then write them, a transaction per starting state."""
    ids = list(dict.fromkeys(ids))
    with WAREHOUSE_LOCK:
        by_id = {r["id"]: r for r in proposals(ws, cycle)}
        missing = [i for i in ids if i not in by_id]
        if missing or not ids:
            raise AwardRefused(f"không có đề nghị {', '.join(missing)} trong kỳ {cycle}")
        groups: dict[str, list[str]] = {}
        for i in ids:
            r = by_id[i]
            try:
                check_change(
                    r["state"],
                    change["to_state"],
                    r["authority"],
                    vote,
                    change.get("doc_no"),
                    f"Chủ tịch {ws.config.settings.tier.authority}",
                )
            except AwardRefused as e:
                raise AwardRefused(f"{r['name']} ({r['form_vi']}): {e}") from None
            groups.setdefault(r["state"], []).append(i)
        with connect(ws.paths.warehouse) as con:
            for state, group in groups.items():
                record_proposal_change(con, group, state, change)
    return {**change, "cycle": cycle, "ids": ids}


def documents(ws: Workspace, cycle: str, today: date, meeting_id: int | None = None) -> dict:
    """The Quyết định (approved forms of the tier's own chairman) and the Tờ trình (approved
    higher forms), docx and xlsx danh sách, under `reports/khen-thuong/<cycle>/`; with
    `meeting_id`, also that meeting's biên bản.  Returns the paths written, by name."""
    from thidua import award_docs

    cfg = ws.config
    every = proposals(ws, cycle)
    rows = [r for r in every if r["state"] in APPROVED]
    m = meeting(ws, meeting_id) if meeting_id is not None else None
    out = ws.paths.reports / "khen-thuong" / cycle
    files = {}
    for level, name, write, title in (
        ("xa", "quyet-dinh", award_docs.quyet_dinh, award_docs.decision_list_title(cfg.settings)),
        ("cap_tren", "to-trinh", award_docs.to_trinh, award_docs.PROPOSAL_LIST_TITLE),
    ):
        part = [r for r in rows if r["authority"] == level]
        if part:
            files[name] = write(cfg, part, today, m, out / f"{name}.docx")
            files[f"{name}-danh-sach"] = award_docs.write_list_xlsx(
                cfg, title, part, out / f"{name}-danh-sach.xlsx"
            )
    if m is not None:
        warnings = {r["id"]: r["warning"] for r in every}
        decided = [
            e | {"warning": warnings.get(e["id"])}
            for e in history(ws, cycle)
            if e["meeting_id"] == meeting_id and e["to_state"] in COUNCIL
        ]
        members = council_members(cfg.directory)
        path = out / f"bien-ban-hop-{meeting_id}.docx"
        files["bien-ban"] = award_docs.bien_ban(cfg, m, members, decided, path)
    return files
