"""The units' upload links, the web upload and the officer's review: one module behind
`thidua link`, `thidua review …` and the web app (`apps/web`), plain functions.

An upload goes through the very sequence of the inbox (`pipeline.collect.collect`), as
a batch of one from a directory of its own; the officer's decisions are rows of the
append-only `review_log` (`thidua.review` says which are allowed).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from thidua import links
from thidua.errors import ThiduaError
from thidua.parse import Limits, Unreadable, parse_file
from thidua.review import VERB, ReviewRefused, check_decision
from thidua.workspace import Workspace
from warehouse.db import connect

# Uploads are collected one at a time in a process.  `collect` holds the run lock
# `ws.run_lock("collect")`, a flock that keeps *processes* apart (a scheduled collect,
# `thidua collect`) but is re-entrant inside one process: two threads of the web server
# would both hold it.  GX's context and datasource are not thread-safe, and DuckDB
# refuses a read-only and a read-write connection to one file in one process, so the
# web app serialises every warehouse access of its threads on this lock as well.
WAREHOUSE_LOCK = threading.RLock()


class LinkError(ThiduaError):
    status = 403


class Tampered(LinkError):
    "The link's signature does not verify"
    status = 403


class Expired(LinkError):
    "The link has expired"
    status = 410


class Revoked(LinkError):
    "The link was revoked by the officer"
    status = 410


class WrongFile(ThiduaError):
    "The workbook is another unit's or another cycle's"


# -- links ------------------------------------------------------------------------------

def make_link(ws: Workspace, unit: str, cycle: str) -> str:
    """The unit's upload address for the cycle: its live link, or a new one."""
    ws.config.unit(unit)
    ws.config.cycle(cycle)
    links.secret(ws.config.settings.web)    # WebNotConfigured before anything is written
    return unit_links(ws, [(unit, cycle)])[(unit, cycle)]


def unit_links(ws: Workspace, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The upload address of each (unit, cycle): its live link, or a new one, in one
    write transaction per call.  Empty when the web is not set up (no secret key), so
    reminders then go out without a link."""
    from warehouse.queries import live_links
    from warehouse.writer import add_upload_links

    web = ws.config.settings.web
    if not web.links_enabled or not pairs:
        return {}
    pairs = list(dict.fromkeys(pairs))
    with WAREHOUSE_LOCK, connect(ws.paths.warehouse) as con:
        ids = live_links(con, pairs)
        now, tz = datetime.now(UTC), ws.config.settings.calendar.tz
        new = [(links.new_link_id(), u, c,
                links.expires_at(web, ws.config.cycle(c), now, tz))
               for u, c in pairs if (u, c) not in ids]
        if new:
            add_upload_links(con, new)
            ids |= {(u, c): i for i, u, c, _ in new}
    return {(u, c): links.url(web, links.sign(web, links.LinkClaim(u, c, ids[(u, c)])))
            for u, c in pairs}


def revoke_links(ws: Workspace, unit: str, cycle: str) -> int:
    from warehouse.writer import revoke_upload_links

    ws.config.unit(unit)
    ws.config.cycle(cycle)
    with WAREHOUSE_LOCK, connect(ws.paths.warehouse) as con:
        return revoke_upload_links(con, unit, cycle)


def open_link(ws: Workspace, token: str) -> links.LinkClaim:
    """The (unit, cycle, link id) of a live token; Tampered, Revoked or Expired."""
    from warehouse.queries import upload_link

    try:
        claim = links.verify(ws.config.settings.web, token)
    except links.BadToken:
        raise Tampered("invalid link") from None
    with WAREHOUSE_LOCK, connect(ws.paths.warehouse, read_only=True) as con:
        row = upload_link(con, claim.link_id)
    if row is None or (row["unit_code"], row["cycle_id"]) != (claim.unit, claim.cycle):
        raise Tampered("unknown link")
    if row["revoked_at"] is not None:
        raise Revoked("link revoked")
    if row["expires_at"] <= datetime.now(UTC):
        raise Expired("link expired")
    return claim


# -- upload -----------------------------------------------------------------------------

@dataclass
class Uploaded:
    outcome: str                 # accepted | accepted_with_warnings | rejected | unreadable
    version: int | None          #   | duplicate
    submission_id: str
    problems: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def check_owner(ws: Workspace, unit: str, cycle: str, data: bytes) -> None:
    """WrongFile when a readable workbook names another unit or cycle in ThongTin (an
    unreadable one goes on, and the collection records it as such)."""
    try:
        parsed = parse_file("upload.xlsx", data, Limits.from_checks(ws.config.settings.checks))
    except Unreadable:
        return
    code = (parsed.info.get("ma_don_vi", (None, None))[0] or "").strip()
    cyc = (parsed.info.get("ky_bao_cao", (None, None))[0] or "").strip()
    if code and code != unit:
        raise WrongFile(f"Tệp này là biểu mẫu của đơn vị {code}, không phải của đơn vị "
                        f"{unit}. Hãy tải biểu mẫu của đơn vị mình trên trang này.")
    if cyc and cyc != cycle:
        raise WrongFile(f"Tệp này là báo cáo kỳ {cyc}, không phải kỳ {cycle}.")


def upload(ws: Workspace, unit: str, cycle: str, data: bytes, docs: bool = False,
           acks: bool = True, document: tuple[str, bytes] | None = None) -> Uploaded:
    """Collect one uploaded workbook of `unit` for `cycle` through the inbox sequence.

    The bytes are written atomically (temp file, then rename) into a fresh directory
    under `uploads/`, which is the inbox of a batch of one; the take-in archives the
    file under its sha256.  The file's name is ours (`<cycle>_<unit>_web.xlsx`), never
    the client's.  A plan document (`document`: its suffix, `.docx` or `.pdf`, and its
    bytes) is written beside it under the same name, so the take-in pairs it with the
    workbook as it does in the folder inbox (`intake.pair_documents`): archived under its
    sha256 and linked to the submission.
    """
    import time

    from pipeline.collect import collect
    from warehouse.queries import submission_problems

    check_owner(ws, unit, cycle, data)
    started = time.perf_counter()
    root = ws.paths.home / "uploads"
    inbox = root / uuid.uuid4().hex
    inbox.mkdir(parents=True)
    try:
        files = [(".xlsx", data)] + ([document] if document else [])
        for suffix, content in files:
            fd, tmp = tempfile.mkstemp(dir=inbox, suffix=".part")
            with os.fdopen(fd, "wb") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, inbox / f"{cycle}_{unit}_web{suffix}")
        with WAREHOUSE_LOCK:
            done = collect(ws, inbox=inbox, docs=docs, acks=acks)
            row = done.files()[0]
            sid = row["submission_id"]
            with connect(ws.paths.warehouse, read_only=True) as con:
                found = con.execute("SELECT version, outcome FROM submissions "
                                    "WHERE submission_id = ?", [sid]).fetchone()
                version = found[0] if found else None
                problems = (submission_problems(con, unit, cycle, version)
                            if version is not None else [])
        if not problems and row["outcome"] == "unreadable":
            ex = done.batch.examined[0]
            problems = [{"severity": p.severity, "sheet": p.sheet, "cell": p.cell,
                         "value": p.value, "message_vi": p.message_vi, "fix_vi": p.fix_vi,
                         "rule_id": p.rule_id} for p in ex.problems]
    finally:
        shutil.rmtree(inbox, ignore_errors=True)
    return Uploaded(row["outcome"], version, sid, problems, time.perf_counter() - started)


# -- review -----------------------------------------------------------------------------

def unit_view(ws: Workspace, unit: str, cycle: str) -> dict:
    """What the unit's page and the officer's unit page show: versions (newest first,
    with review states), the latest version's problems, the review log, and the latest
    document (the plan) received with any version."""
    from warehouse.queries import review_history, submission_problems, versions

    with WAREHOUSE_LOCK, connect(ws.paths.warehouse, read_only=True) as con:
        vs = versions(con, unit, cycle)
        problems = submission_problems(con, unit, cycle) if vs else []
        log = review_history(con, unit, cycle)
    document = next(({"name": v["documents"][-1], "version": v["version"]}
                     for v in vs if v["documents"]), None)
    return {"versions": vs, "problems": problems, "log": log,
            "review": vs[0]["review"] if vs else None, "document": document}


def matrix(ws: Workspace, cycle: str) -> list[dict]:
    """Every expected unit of the cycle with its latest version, outcome and review."""
    from warehouse.queries import unit_status

    ws.config.cycle(cycle)
    with WAREHOUSE_LOCK, connect(ws.paths.warehouse, read_only=True) as con:
        return unit_status(con, cycle)


def decide(ws: Workspace, unit: str, cycle: str, verb: str, actor: str,
           comment: str | None = None) -> dict:
    """approve | return | reject the latest version of a unit for a cycle.

    A returned version's unit is emailed the comment and its upload link (when the web
    is set up) through the mailer; returns the decision and, for `return`, the mail's
    status.
    """
    from warehouse.queries import versions
    from warehouse.writer import record_review

    if verb not in VERB:
        raise ReviewRefused(f"unknown action {verb!r}: approve, return or reject")
    to_state = VERB[verb]
    cfg = ws.config
    u, c = cfg.unit(unit), cfg.cycle(cycle)
    with WAREHOUSE_LOCK:
        with connect(ws.paths.warehouse, read_only=True) as con:
            vs = versions(con, unit, cycle)
        if not vs:
            raise ReviewRefused(f"{unit} has sent nothing for {cycle}")
        latest = vs[0]
        comment = check_decision(latest["review"], to_state, latest["outcome"], comment,
                                 latest=True)
        with connect(ws.paths.warehouse) as con:
            record_review(con, latest["submission_id"], latest["review"], to_state, actor,
                          comment)
    out = {"unit": unit, "cycle": cycle, "version": latest["version"],
           "from_state": latest["review"], "to_state": to_state, "comment": comment,
           "email": None}
    if to_state == "returned":
        out["email"] = _mail_returned(ws, u, c, latest["version"], comment)
    return out


def _mail_returned(ws: Workspace, unit, cycle, version: int, comment: str) -> str:
    from thidua.mailer import open_mailer
    from thidua.review_mail import returned_email

    link = unit_links(ws, [(unit.code, cycle.id)]).get((unit.code, cycle.id))
    email = returned_email(ws.config, unit, cycle, version, comment, link)
    with open_mailer(ws.config.settings, ws.paths.outbox) as mailer:
        result = mailer.send(email)
    return "sent" if result.ok else f"failed: {result.error or result.refused}"
