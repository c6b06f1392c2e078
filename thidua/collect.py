"""Collection, step by step: take in → examine (parse, registry checks, GX) → load → tidy.

Each step works on a whole batch and is what a Prefect task of `flows/collect.py`
calls; the flow adds retries, the writer lock and the artifact.  Order matters for
safety: a file is archived and recorded before it is parsed, and leaves the inbox only
after its batch is committed, so a crash at any point loses nothing and the rerun
loads each submission once (its sha256 is its id).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from thidua import layout
from thidua.checks import Examined
from thidua.examine import examine_all
from thidua.intake import Arrival, Incoming, scan, take_all
from thidua.parse import Limits
from thidua.rules import ERROR, WARNING
from thidua.workspace import Workspace


@dataclass
class Batch:
    batch_id: str
    arrivals: list[Arrival]
    examined: list[Examined]
    duplicates: list[Incoming]      # already loaded earlier, or twice in this batch
    values: Any = None              # values_frame(readable examined), once built


def take_in(ws: Workspace, inbox: Path | None = None) -> list[Arrival]:
    """Archive every inbox file (and mail attachment) and record it in `files`."""
    from warehouse.db import connect
    from warehouse.writer import record_files

    ws.paths.archive.mkdir(parents=True, exist_ok=True)
    arrivals = take_all(scan(inbox or ws.paths.inbox), ws.paths.archive)
    if arrivals:
        with connect(ws.paths.warehouse) as con:
            record_files(con, files_frame(arrivals))
    return arrivals


def examine(ws: Workspace, arrivals: list[Arrival], docs: bool = True) -> Batch:
    """Parse and check every new submission of the batch; GX runs once over all values."""
    from warehouse.db import connect
    from warehouse.queries import loaded_ids

    incoming = [s for a in arrivals for s in a.submissions]
    with connect(ws.paths.warehouse, read_only=True) as con:
        loaded = loaded_ids(con, [s.submission_id for s in incoming])
    batch = Batch(uuid.uuid4().hex[:12], arrivals, [], [])
    seen, new = set(loaded), []
    for inc in incoming:
        if inc.submission_id in seen:
            batch.duplicates.append(inc)
            continue
        seen.add(inc.submission_id)
        new.append(inc)
    batch.examined = examine_all(ws.config, new, Limits.from_checks(ws.config.settings.checks))
    batch.values = validate_values(ws, batch.examined, ws.paths.data_docs if docs else None)
    return batch


def validate_values(ws: Workspace, examined: list[Examined], docs_dir: Path | None):
    """One GX run over the values of every readable submission; problems go to each.
    Returns the values frame it read (`values_frame`), which the load reuses."""
    import pandas as pd

    from expectations.submissions import long_frame
    from expectations.validate import run_suite
    from warehouse.db import connect
    from warehouse.queries import previous_values

    cfg = ws.config
    readable = [ex for ex in examined if ex.parsed is not None]
    sk = {ex.incoming.submission_id: len(ex.parsed.initiatives) for ex in readable}
    units = [(ex.incoming.submission_id, ex.unit.code, ex.cycle.id)
             for ex in readable if ex.unit and ex.cycle]
    df = values_frame(readable)
    keep = df["code"].isin([i.code for i in cfg.indicators])
    for cycle_id in df["cycle_id"].dropna().unique():    # only the cycle's value columns
        measures = [c.key for c in layout.value_columns(cfg.cycles_by_id[cycle_id])]
        keep &= (df["cycle_id"] != cycle_id) | df["measure"].isin(measures)
    df["cycle_kind"] = df["cycle_id"].map({c.id: c.kind for c in cfg.cycles})
    values = df.loc[keep, ["submission_id", "cycle_kind", "code", "measure", "value", "raw",
                           "cell"]].rename(columns={"code": "indicator"})
    with connect(ws.paths.warehouse, read_only=True) as con:
        previous = previous_values(con, pd.DataFrame(
            units, columns=["submission_id", "unit_code", "cycle_id"]))
    frame = long_frame(values, cfg, previous, pd.Series(sk, dtype=float))
    by_id = {ex.incoming.submission_id: ex for ex in examined}
    for sid, p in run_suite(frame, cfg, docs_dir):
        by_id[sid].problems.append(p)
    return df.drop(columns="cycle_kind")


def load(ws: Workspace, batch: Batch) -> int:
    """Write the batch in one transaction; returns the number of new submissions."""
    from warehouse.db import connect
    from warehouse.writer import load_submissions

    with connect(ws.paths.warehouse) as con:
        return load_submissions(con, batch_frames(batch))


def tidy_inbox(ws: Workspace, batch: Batch) -> dict[str, int]:
    """After the load committed: unreadable files to quarantine, the rest out of the inbox."""
    unreadable = {ex.incoming.origin for ex in batch.examined if ex.parsed is None}
    ws.paths.quarantine.mkdir(parents=True, exist_ok=True)
    moved = removed = 0
    for a in batch.arrivals:
        if not (a.path.is_symlink() or a.path.exists()):    # a dangling link too
            continue
        if a.path in unreadable:
            shutil.move(a.path, ws.paths.quarantine / f"{a.sha256[:12]}_{a.path.name}")
            moved += 1
        else:
            a.path.unlink()
            removed += 1
    return {"quarantined": moved, "removed": removed}


def acknowledge(ws: Workspace, submission_ids: list[str] | None = None):
    """Mail the acknowledgments still owed (of these submissions, or all) and log them."""
    from thidua.acknowledge import send_acks
    from warehouse.db import connect
    from warehouse.queries import pending_acks
    from warehouse.writer import record_acknowledgments

    with connect(ws.paths.warehouse, read_only=True) as con:
        pending = pending_acks(con, submission_ids)
    results = send_acks(ws.config, ws.paths.outbox, pending)
    if not results.empty:
        with connect(ws.paths.warehouse) as con:
            record_acknowledgments(con, results)
    return results


def collect(ws: Workspace, inbox: Path | None = None, docs: bool = True,
            acks: bool = True) -> Batch:
    """The whole collection without Prefect (tests, bench): the flow's steps in order."""
    batch = examine(ws, take_in(ws, inbox), docs)
    load(ws, batch)
    tidy_inbox(ws, batch)
    if acks:
        acknowledge(ws, [ex.incoming.submission_id for ex in batch.examined])
    return batch


def outcomes(batch: Batch) -> list[dict]:
    """One row per file of the batch, for the CLI, the JSON output and the artifact."""
    rows = [{"submission_id": ex.incoming.submission_id, "file": ex.incoming.name,
             "unit": ex.unit.code if ex.unit else None,
             "cycle": ex.cycle.id if ex.cycle else None, "outcome": ex.outcome,
             "late": ex.late, "errors": ex.count(ERROR), "warnings": ex.count(WARNING)}
            for ex in batch.examined]
    rows += [{"submission_id": d.submission_id, "file": d.name, "unit": None,
              "cycle": None, "outcome": "duplicate", "late": False, "errors": 0,
              "warnings": 0} for d in batch.duplicates]
    return rows


# -- frames for the warehouse ---------------------------------------------------------

def files_frame(arrivals: list[Arrival]):
    import pandas as pd

    rows = {}
    for a in arrivals:
        sender = a.submissions[0].sender if a.submissions else None   # a mail's From
        rows[a.sha256] = (a.sha256, a.path.name, a.size, "inbox", sender, a.received_at,
                          str(a.archived_path))
        for s in a.submissions:
            if s.submission_id != a.sha256:
                rows[s.submission_id] = (s.submission_id, s.name, s.size, s.source, s.sender,
                                         s.received_at, str(s.archived_path))
    return pd.DataFrame(list(rows.values()), columns=[
        "sha256", "original_name", "size_bytes", "source", "sender", "received_at",
        "archived_path"])


def batch_frames(batch: Batch) -> dict:
    """One DataFrame per warehouse table, the rows of every new submission."""
    import pandas as pd

    subs, info, inits, props, results = [], [], [], [], []
    for ex in batch.examined:
        sid, p = ex.incoming.submission_id, ex.parsed
        fmt = p.file_format if p else ex.incoming.name.rsplit(".", 1)[-1].lower()
        subs.append((sid, ex.unit.code if ex.unit else None, ex.cycle.id if ex.cycle else None,
                     ex.incoming.received_at, ex.outcome, ex.late, ex.count(ERROR),
                     ex.count(WARNING), fmt, batch.batch_id))
        results += [(sid, q.rule_id, q.severity, q.sheet, q.cell, q.value, q.message_vi,
                     q.fix_vi) for q in ex.problems]
        if p is None:
            continue
        info += [(sid, k, v, c) for k, (v, c) in p.info.items()]
        inits += [(sid, r["row_no"], r["title"], r["author"], r["field"], r["applied_on"],
                   r["effect"], r["recognition"], r["cell"]) for r in p.initiatives]
        props += [(sid, r["row_no"], r["subject_type"], r["name"], r["position"],
                   r["reward_form"], r["summary"], r["cell"]) for r in p.proposals]

    def frame(rows, columns):
        return pd.DataFrame(rows, columns=columns)

    vals = batch.values if batch.values is not None else values_frame(
        [ex for ex in batch.examined if ex.parsed is not None])
    vals = vals.drop(columns="cycle_id").rename(columns={"code": "indicator_code"})
    return {
        "submissions": frame(subs, ["submission_id", "unit_code", "cycle_id", "received_at",
                                    "outcome", "late", "n_errors", "n_warnings",
                                    "file_format", "batch_id"]),
        "submission_info": frame(info, ["submission_id", "key", "value", "cell"]),
        "submission_values": vals,
        "initiatives": frame(inits, ["submission_id", "row_no", "title", "author", "field",
                                     "applied_on", "effect", "recognition", "cell"]),
        "proposals": frame(props, ["submission_id", "row_no", "subject_type", "name",
                                   "position", "reward_form", "summary", "cell"]),
        "validation_results": frame(results, ["submission_id", "rule_id", "severity", "sheet",
                                              "cell", "value", "message_vi", "fix_vi"]),
    }


def values_frame(readable: list[Examined]):
    """Every value read from these submissions, built column by column: no tuple per
    row, which costs more than the bulk insert itself.  Values that came back from pool
    workers as columns (`ValueColumns`) are taken a run of files at a time.  Columns:
    submission_id, cycle_id, code, measure, value, raw, note, cell."""
    import numpy as np
    import pandas as pd

    from thidua.parse import VALUE_FIELDS, ValueColumns

    cols: tuple[list, ...] = tuple([] for _ in VALUE_FIELDS)
    run = None                              # [columns, start, stop] not yet copied

    def flush() -> None:
        if run is not None:
            for out, col in zip(cols, run[0], strict=True):
                out.extend(col[run[1]:run[2]])

    for ex in readable:
        vals = ex.parsed.values
        if isinstance(vals, ValueColumns):
            if run is not None and run[0] is vals.cols and run[2] == vals.start:
                run[2] = vals.stop
                continue
            flush()
            run = [vals.cols, vals.start, vals.stop]
        else:
            flush()
            run = None
            for out, name in zip(cols, VALUE_FIELDS, strict=True):
                out.extend(map(attrgetter(name), vals))
    flush()
    counts = [len(ex.parsed.values) for ex in readable]

    def repeated(items: list) -> np.ndarray:
        return np.repeat(np.array(items, dtype=object), counts)

    df = pd.DataFrame({
        "submission_id": repeated([ex.incoming.submission_id for ex in readable]),
        "cycle_id": repeated([ex.cycle.id if ex.cycle else None for ex in readable]),
        **dict(zip(VALUE_FIELDS, cols, strict=True))})
    if df.empty:            # no values: text columns would come out float
        df = df.astype(object)
    df["value"] = df["value"].astype(float)
    return df
