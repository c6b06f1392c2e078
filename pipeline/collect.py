"""Collection: [fetch mail →] take in → examine (parse, registry checks, GX) → load → tidy →
acknowledge [→ file mail].

With the commune's mailbox configured (`THIDUA_IMAP_HOST`), new mail is fetched into the
inbox directory first and, once loaded and acknowledged, moved to its IMAP folder
(`pipeline.mailbox`); without it the sequence is the inbox directory alone.

`collect` is the one sequence of these steps.  `thidua collect` runs it in this process;
the `collect` flow runs the same sequence with each step as a Prefect task (`run`), and
adds the run lock, the writer slot and the artifact.  Order matters for safety: a file is
archived before it is parsed, recorded once the archive is synced, and leaves the inbox
only after its batch is committed, so a crash at any point loses nothing and the rerun
loads each submission once (its sha256 is its id).
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pipeline.alerts import alert_failing_mail
from pipeline.steps import Runner, call
from thidua import layout
from thidua.batch import Batch, batch_frames, files_frame, outcomes, values_frame
from thidua.checks import ACCEPTED, WITH_WARNINGS, Examined, Narrative, flag_copied_narratives
from thidua.examine import set_apart, take_and_examine
from thidua.intake import Arrival, Incoming, envelope_key, resent, scan
from thidua.package import check_manifests
from thidua.parse import Limits
from thidua.workers import gc_paused
from thidua.workspace import Workspace
from warehouse.db import connect

if TYPE_CHECKING:
    import duckdb


@dataclass
class Collected:
    """What one collection did: the batch, how many submissions it loaded, what left the
    inbox, and the acknowledgments sent or failed in this run."""

    batch: Batch
    loaded: int
    tidied: dict[str, int]
    acks: pd.DataFrame
    mail: dict | None = None  # the mailbox: fetched, filed, quarantined, bounced

    def files(self) -> list[dict]:
        """One row per file (`outcomes`) with its acknowledgment's status."""
        status = dict(zip(self.acks["submission_id"], self.acks["status"], strict=True))
        return [r | {"ack": status.get(r["submission_id"], "")} for r in outcomes(self.batch)]

    def as_dict(self) -> dict:
        out = {"batch_id": self.batch.batch_id, "loaded": self.loaded, "files": self.files()}
        return out | ({"mailbox": self.mail} if self.mail is not None else {})


def collect(
    ws: Workspace,
    inbox: Path | None = None,
    docs: bool = True,
    acks: bool = True,
    run: Runner = call,
    claims: dict[str, tuple[str, str]] | None = None,
) -> Collected:
    """The collection sequence, shared by `thidua collect` and the `collect` flow.

    Acknowledges every submission still owed one, so acknowledgments that failed on an
    earlier run go out now.  `claims` (the web's uploads): inbox file name → the
    (unit, cycle) of the link that sent it (`examine`).
    """
    # One collection at a time: an overlapping run waits, then finds the inbox done
    from pipeline.mailbox import fetch_mail, file_mail

    mailbox = ws.config.settings.imap.host is not None
    with ws.run_lock("collect"):
        # The mailbox first: new mail becomes inbox files (imap-<sha256>.eml)
        fetched = run(fetch_mail, ws) if mailbox else None
        # Extract: archive every file before anything reads it, parse it, record it
        taken = run(take_in, ws, inbox)
        # Transform: the new submissions, one GX run over the batch
        batch = run(examine, ws, taken, docs, claims)
        # Load: one transaction; a resend is logged owed (and answered, with any owed
        # from before) while its file is still in the inbox; then the inbox is tidied
        loaded = run(load, ws, batch)
        if acks:
            run(answer_resends, ws, batch)
        tidied = run(tidy_inbox, ws, batch)
        # Tell each unit, and the admin about mail that keeps failing
        sent = run(acknowledge, ws) if acks else pd.DataFrame(columns=["submission_id", "status"])
        run(alert_failing_mail, ws)
        # Each mail to its folder; the officer told of quarantined mail and bounces
        mail = fetched | run(file_mail, ws, fetched) if mailbox else None
    return Collected(batch, loaded, tidied, sent, mail)


@dataclass
class Taken:
    """What the take-in made of the inbox: the arrivals, recorded, and the examination
    of each of their submissions in the same order (`examine` keeps the new ones)."""

    arrivals: list[Arrival]
    examined: list[Examined]


def take_in(ws: Workspace, inbox: Path | None = None) -> Taken:
    """Archive every inbox file (and mail attachment) and examine it (parse, registry
    checks) in one pass of isolated workers (`take_and_examine`), then record every
    file in `files` under the id its earlier sendings give it (`identify`).

    Nothing is recorded before the archive is synced, and nothing leaves the inbox before
    the load commits, so a crash anywhere in between leaves every file to the rerun."""
    from warehouse.writer import record_files

    ws.paths.archive.mkdir(parents=True, exist_ok=True)
    settings = ws.config.settings
    # Nothing larger than a workbook or a mail is read whole into memory
    cap_mb = max(settings.checks.max_file_mb, settings.imap.max_message_mb)
    arrivals, examined = take_and_examine(
        ws.config,
        scan(inbox or ws.paths.inbox),
        ws.paths.archive,
        Limits.from_checks(settings.checks),
        authserv_id=settings.imap.authserv_id,
        max_bytes=int(cap_mb * 2**20),
    )
    if arrivals:
        with connect(ws.paths.warehouse) as con:
            arrivals = identify(arrivals, earlier_of(con, arrivals))
            record_files(con, files_frame(arrivals))
        flat = (s for a in arrivals for s in a.submissions)
        for ex, inc in zip(examined, flat, strict=True):
            ex.incoming = inc  # examined under the id it has now
    return Taken(arrivals, examined)


def earlier_of(con: duckdb.DuckDBPyConnection, arrivals: list[Arrival]) -> dict[str, list[dict]]:
    """The bytes' sha256 → every earlier submission of those bytes (`earlier_verdicts`)."""
    from thidua.checks import ENVELOPE_RULES
    from warehouse.queries import earlier_verdicts

    contents = [s.resend_of or s.submission_id for a in arrivals for s in a.submissions]
    found = earlier_verdicts(con, contents, ENVELOPE_RULES)
    return {str(c): g.to_dict("records") for c, g in found.groupby("content")}


def identify(arrivals: list[Arrival], earlier: dict[str, list[dict]]) -> list[Arrival]:
    """Each submission's id, from its bytes and its envelope (`intake.resent`): a file
    seen before (earlier, or earlier in this batch) under another envelope gets its own
    id when its envelope was refused or it was accepted, so it is examined, or answered,
    again; the same envelope again (a rerun) keeps the id it had, a duplicate."""
    seen: dict[str, list[Incoming]] = {}
    out = []
    for a in arrivals:
        subs = []
        for inc in a.submissions:
            sid = inc.submission_id
            before = earlier.get(sid, []) + [
                {"incoming": s, "envelope_refused": True, "outcome": None}
                for s in seen.get(sid, ())
            ]
            subs.append(_identified(inc, before))
            seen.setdefault(sid, []).append(inc)
        same = all(s is inc for s, inc in zip(subs, a.submissions, strict=True))
        out.append(a if same else replace(a, submissions=tuple(subs)))
    return out


def _identified(inc: Incoming, before: list[dict]) -> Incoming:
    """`inc` under the id its earlier sendings (`identify`) give it."""
    if not before or inc.refused:
        return inc
    again = resent(inc)
    for e in before:
        if e.get("submission_id") == again.submission_id or _same_envelope(inc, e):
            return replace(inc, submission_id=e.get("submission_id", inc.submission_id))
    refused = before[-1]["envelope_refused"]
    if refused or any(e["outcome"] in (ACCEPTED, WITH_WARNINGS) for e in before):
        return again
    return inc


def _same_envelope(inc: Incoming, e: dict) -> bool:
    """Whether an earlier sending (`earlier_verdicts` row, or an Incoming of this
    batch) came in the same envelope as `inc`."""
    if "incoming" in e:
        return envelope_key(e["incoming"]) == envelope_key(inc)
    mail = e["message_sha256"] if isinstance(e["message_sha256"], str) else None
    if inc.mail_sha256 or mail:
        return mail == inc.mail_sha256
    return e["original_name"] == inc.name and pd.Timestamp(e["file_received"]) == inc.received_at


def examine(
    ws: Workspace,
    taken: Taken,
    docs: bool = True,
    claims: dict[str, tuple[str, str]] | None = None,
) -> Batch:
    """Keep the examinations of the batch's new submissions (a duplicate is answered,
    not loaded) and check them together: GX runs once over all values.  A file sent by
    a link (`claims`) whose workbook is another unit's or cycle's is set apart
    (`batch.misdirected`), not checked further nor loaded."""
    from warehouse.queries import loaded_ids

    arrivals = taken.arrivals
    with connect(ws.paths.warehouse, read_only=True) as con:
        loaded = loaded_ids(con, [ex.incoming.submission_id for ex in taken.examined])
        accepted = _accepted(earlier_of(con, [a for a in arrivals if _has_resend(a)]))
    batch = Batch(uuid.uuid4().hex[:12], arrivals, [], [])
    seen, new = set(loaded), []
    for ex in taken.examined:
        inc = ex.incoming
        first = accepted.get(inc.resend_of or "")
        if inc.submission_id in seen or first is not None:
            batch.duplicates.append(inc)
            if inc.submission_id not in seen and first is not None:
                batch.resent.append((inc, first))
            continue
        seen.add(inc.submission_id)
        new.append(ex)
    check_manifests(new, arrivals)
    batch.examined = _one_per_file(batch, new)
    if claims:
        batch.examined, batch.misdirected = set_apart(batch.examined, claims)
    with gc_paused():  # a pass over every object of the batch costs more than the checks
        batch.values = validate_values(ws, batch.examined, ws.paths.data_docs if docs else None)
    flag_copied(ws, batch.examined)
    return batch


def flag_copied(ws: Workspace, examined: list[Examined]) -> None:
    """Warn of narratives copied from another unit of the same cycle, as the warehouse
    holds them (each unit's version that counts): `flag_copied_narratives`."""
    from warehouse.queries import narratives

    cycles = sorted({ex.cycle.id for ex in examined if ex.cycle and ex.parsed})
    if not cycles:
        return
    with connect(ws.paths.warehouse, read_only=True) as con:
        known = narratives(con, cycles, list(layout.NARRATIVE_KEYS))
    flag_copied_narratives(examined, [Narrative(*row) for row in known])


def _one_per_file(batch: Batch, examined: list[Examined]) -> list[Examined]:
    """Copies of one file in one batch are each examined (`identify`), but a later copy
    counts only when it, or every earlier one, was refused for its envelope (each mail
    is filed by its own verdict); else it is a duplicate, answered once when an
    earlier copy was accepted."""
    from thidua.checks import ENVELOPE_RULES

    def refused(e: Examined) -> bool:
        return any(p.rule_id in ENVELOPE_RULES for p in e.problems)

    kept: list[Examined] = []
    copies: dict[str, list[Examined]] = {}
    for ex in examined:
        inc = ex.incoming
        earlier = copies.setdefault(inc.resend_of or inc.submission_id, [])
        if refused(ex) or all(refused(e) for e in earlier):
            kept.append(ex)
        else:
            batch.duplicates.append(inc)
            if first := next((e for e in earlier if e.outcome in (ACCEPTED, WITH_WARNINGS)), None):
                batch.resent.append((inc, _row_of(first)))
        earlier.append(ex)
    return kept


def _row_of(ex: Examined) -> dict:
    """What answering a resend needs of the accepted submission it repeats."""
    return {
        "submission_id": ex.incoming.submission_id,
        "unit_code": ex.unit.code if ex.unit else None,
        "received_at": ex.incoming.received_at,
    }


def _has_resend(a: Arrival) -> bool:
    return any(s.resend_of for s in a.submissions)


def _accepted(earlier: dict[str, list[dict]]) -> dict[str, dict]:
    """The bytes' sha256 → the first submission of them that was accepted."""
    return {
        content: next(r for r in rows if r["outcome"] in (ACCEPTED, WITH_WARNINGS))
        for content, rows in earlier.items()
        if any(r["outcome"] in (ACCEPTED, WITH_WARNINGS) for r in rows)
    }


def validate_values(ws: Workspace, examined: list[Examined], docs_dir: Path | None) -> pd.DataFrame:
    """One GX run over the values of every readable submission; problems go to each.
    Returns the values frame it read (`values_frame`), which the load reuses."""
    from expectations.submissions import long_frame
    from expectations.validate import run_suite
    from warehouse.queries import previous_values, reached_values

    cfg = ws.config
    readable = [ex for ex in examined if ex.parsed is not None]
    sk = {ex.incoming.submission_id: len(ex.parsed.initiatives) for ex in examined if ex.parsed}
    units = [
        (ex.incoming.submission_id, ex.unit.code, ex.cycle.id)
        for ex in readable
        if ex.unit and ex.cycle
    ]
    df = values_frame(readable)
    keep = df["code"].isin([i.code for i in cfg.indicators])
    for cycle_id in df["cycle_id"].dropna().unique():  # only the cycle's value columns
        measures = [c.key for c in layout.value_columns(cfg.cycles_by_id[cycle_id])]
        keep &= (df["cycle_id"] != cycle_id) | df["measure"].isin(measures)
    df["cycle_kind"] = df["cycle_id"].map({c.id: c.kind for c in cfg.cycles})
    values = df.loc[
        keep, ["submission_id", "cycle_id", "cycle_kind", "code", "measure", "value", "raw", "cell"]
    ].rename(columns={"code": "indicator"})
    with connect(ws.paths.warehouse, read_only=True) as con:
        batch_units = pd.DataFrame(units, columns=["submission_id", "unit_code", "cycle_id"])
        previous = previous_values(con, batch_units)
        reached = reached_values(con, batch_units)
    frame = long_frame(values, cfg, previous, pd.Series(sk, dtype=float), reached)
    by_id = {ex.incoming.submission_id: ex for ex in examined}
    for sid, p in run_suite(frame, cfg, docs_dir):
        by_id[sid].problems.append(p)
    return df.drop(columns="cycle_kind")


def load(ws: Workspace, batch: Batch) -> int:
    """Write the batch in one transaction; returns the number of new submissions."""
    from warehouse.writer import load_submissions

    with gc_paused(), connect(ws.paths.warehouse) as con:
        return load_submissions(con, batch_frames(batch))


def tidy_inbox(ws: Workspace, batch: Batch) -> dict[str, int]:
    """After the load committed: unreadable files to quarantine, the rest out of the inbox.

    Only a file still as it was taken (`still_taken`) leaves: one a unit dropped again
    under the same name while the run went on is left for the next run."""
    unreadable = {ex.incoming.origin for ex in batch.examined if ex.parsed is None}
    ws.paths.quarantine.mkdir(parents=True, exist_ok=True)
    moved = removed = changed = 0
    for a in batch.arrivals:
        # a plan document paired by name leaves with its workbook (a mail's are inside it)
        paired = [d for d in a.documents if d.origin != a.path]
        for path, sha, size, received in [
            (a.path, a.sha256, a.size, a.received_at),
            *((d.origin, d.submission_id, d.size, d.received_at) for d in paired),
        ]:
            try:
                st = path.lstat()  # a dangling link is there too
            except FileNotFoundError:
                continue
            if not still_taken(st, size, received):
                changed += 1
            elif a.path in unreadable:
                shutil.move(path, ws.paths.quarantine / f"{sha[:12]}_{path.name}")
                moved += 1
            else:
                path.unlink()
                removed += 1
    return {"quarantined": moved, "removed": removed, "changed": changed}


def still_taken(st: os.stat_result, size: int, received: datetime) -> bool:
    """Whether the inbox entry of status `st` (lstat) is the one taken in: the same size
    and time (its mtime is the arrival time).  A file dropped again under its name, or
    written over, has the time of its new drop."""
    return st.st_size == size and datetime.fromtimestamp(st.st_mtime, UTC) == received


def acknowledge(ws: Workspace, submission_ids: list[str] | None = None) -> pd.DataFrame:
    """Mail the acknowledgments still owed (of these submissions, or all), logging each
    one right after its SMTP transaction."""
    from thidua.acknowledge import ACK_COLUMNS, send_acks
    from warehouse.queries import pending_acks
    from warehouse.writer import record_acknowledgments

    with connect(ws.paths.warehouse, read_only=True) as con:
        pending = pending_acks(con, submission_ids)
    if pending.empty:
        return pd.DataFrame(columns=ACK_COLUMNS)
    with connect(ws.paths.warehouse) as con:
        return send_acks(
            ws.config,
            ws.paths.outbox,
            pending,
            record=lambda outcome: record_acknowledgments(con, pd.DataFrame([outcome])),
        )


def answer_resends(ws: Workspace, batch: Batch) -> int:
    """Answer each resend of an accepted file ("đã nhận trước đó") to the unit's
    registered address.  This batch's resends are logged owed first; then every owed
    one is sent (`owed_resends`: also those a dead run left, and those that failed
    earlier, by the acknowledgments' retry rule), each logged right after its SMTP
    transaction.  Returns how many were tried now."""
    from thidua.acknowledge import resend_email
    from thidua.mailer import open_mailer
    from warehouse.queries import owed_resends
    from warehouse.writer import owe_resends, record_resend_notices

    with connect(ws.paths.warehouse) as con:
        if batch.resent:
            owe_resends(con, [(inc.submission_id, f["submission_id"]) for inc, f in batch.resent])
        owed = owed_resends(con)
        if not owed:
            return 0
        with open_mailer(ws.config.settings, ws.paths.outbox) as mailer:
            for resend in owed:
                email = resend_email(ws.config, resend)
                sent = (
                    asdict(mailer.send_one(email))
                    if email is not None
                    else {"status": "skipped", "error": "no unit to answer"}
                )
                notice = {
                    c: sent.get(c)
                    for c in ("status", "sent_at", "message_id", "recipients", "error")
                }
                ids = {"resend_id": resend["resend_id"], "submission_id": resend["submission_id"]}
                record_resend_notices(con, pd.DataFrame([notice | ids]))
    return len(owed)
