"""The officer's review, behind `thidua review …` and the web app (`apps/web`): the
pages' views of a unit's versions, the matrix of a cycle, and the decisions, rows of the
append-only `review_log` (`thidua.review` says which are allowed).
"""

from __future__ import annotations

from pipeline.links import unit_links
from thidua.config import Cycle, Unit
from thidua.mailer import send_one
from thidua.review import VERB, ReviewRefused, check_decision
from thidua.review_mail import returned_email
from thidua.workspace import Workspace
from warehouse.db import WAREHOUSE_LOCK, connect
from warehouse.queries import review_history, submission_problems, unit_status, versions
from warehouse.writer import record_review


def unit_view(ws: Workspace, unit: str, cycle: str) -> dict:
    """What the unit's page and the officer's unit page show: versions (newest first,
    with review states), the latest version's problems, the review log, and the latest
    document (the plan) received with any version."""
    with connect(ws.paths.warehouse, read_only=True) as con:
        vs = versions(con, unit, cycle)
        problems = submission_problems(con, unit, cycle) if vs else []
        return view_of(vs, problems, review_history(con, unit, cycle))


def view_of(vs: list[dict], problems: list[dict], log: list[dict]) -> dict:
    """A unit's page from its versions (newest first), the problems to show and its
    review log; the plan document is the latest received with any version."""
    document = next(
        ({"name": v["documents"][-1], "version": v["version"]} for v in vs if v["documents"]), None
    )
    return {
        "versions": vs,
        "problems": problems,
        "log": log,
        "review": vs[0]["review"] if vs else None,
        "document": document,
    }


def matrix(ws: Workspace, cycle: str) -> list[dict]:
    """Every expected unit of the cycle with its latest version, outcome and review."""
    ws.config.cycle(cycle)
    with connect(ws.paths.warehouse, read_only=True) as con:
        return unit_status(con, cycle)


def decide(
    ws: Workspace, unit: str, cycle: str, verb: str, actor: str, comment: str | None = None
) -> dict:
    """approve | return | reject the latest version of a unit for a cycle.

    A returned version's unit is emailed the comment and its upload link (when the web
    is set up) through the mailer; returns the decision and, for `return`, the mail's
    status.
    """
    if verb not in VERB:
        raise ReviewRefused(
            f"không có thao tác “{verb}”: chỉ có duyệt (approve), trả lại (return) "
            "hoặc không chấp nhận (reject)"
        )
    to_state = VERB[verb]
    cfg = ws.config
    u, c = cfg.unit(unit), cfg.cycle(cycle)
    with WAREHOUSE_LOCK:  # nothing decided between the read and the write
        with connect(ws.paths.warehouse, read_only=True) as con:
            vs = versions(con, unit, cycle)
        if not vs:
            raise ReviewRefused(f"đơn vị {unit} chưa gửi báo cáo nào cho kỳ {cycle}")
        latest = vs[0]
        comment = check_decision(
            latest["review"], to_state, latest["outcome"], comment, latest=True
        )
        with connect(ws.paths.warehouse) as con:
            record_review(con, latest["submission_id"], latest["review"], to_state, actor, comment)
    out = {
        "unit": unit,
        "cycle": cycle,
        "version": latest["version"],
        "from_state": latest["review"],
        "to_state": to_state,
        "comment": comment,
        "email": None,
    }
    if to_state == "returned" and comment:  # check_decision asks a return for one
        out["email"] = _mail_returned(ws, u, c, latest["version"], comment)
    return out


def _mail_returned(ws: Workspace, unit: Unit, cycle: Cycle, version: int, comment: str) -> str:
    link = unit_links(ws, [(unit.code, cycle.id)]).get((unit.code, cycle.id))
    email = returned_email(ws.config, unit, cycle, version, comment, link)
    return send_one(ws.config.settings, ws.paths.outbox, email).note
