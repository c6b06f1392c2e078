"""A collection batch and its rows: what the pipeline hands from step to step, and the
DataFrames it becomes for the warehouse (one per table).  Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter, itemgetter, methodcaller
from typing import TYPE_CHECKING, Any

from thidua.checks import Examined
from thidua.intake import Arrival, Incoming
from thidua.rules import ERROR, WARNING

if TYPE_CHECKING:
    import pandas as pd

    from thidua.parse import Parsed


@dataclass
class Batch:
    batch_id: str
    arrivals: list[Arrival]
    examined: list[Examined]
    duplicates: list[Incoming]  # already loaded earlier, or twice in this batch
    values: Any = None  # values_frame(readable examined), once built
    # a link's upload of another unit's or cycle's workbook, with why: never loaded
    misdirected: list[tuple[Incoming, str]] = field(default_factory=list)
    # resends of a file already accepted (also duplicates), with that submission's row
    resent: list[tuple[Incoming, dict]] = field(default_factory=list)


def outcomes(batch: Batch) -> list[dict]:
    """One row per file of the batch, for the CLI, the JSON output and the artifact."""
    rows = [
        {
            "submission_id": ex.incoming.submission_id,
            "file": ex.incoming.name,
            "unit": ex.unit.code if ex.unit else None,
            "cycle": ex.cycle.id if ex.cycle else None,
            "outcome": ex.outcome,
            "late": ex.late,
            "errors": ex.count(ERROR),
            "warnings": ex.count(WARNING),
        }
        for ex in batch.examined
    ]
    rows += [
        {
            "submission_id": d.submission_id,
            "file": d.name,
            "unit": None,
            "cycle": None,
            "outcome": "duplicate",
            "late": False,
            "errors": 0,
            "warnings": 0,
        }
        for d in batch.duplicates
    ]
    return rows


# -- frames for the warehouse ---------------------------------------------------------

FILE_COLUMNS = [
    "sha256",
    "original_name",
    "size_bytes",
    "source",
    "sender",
    "received_at",
    "archived_path",
    "message_id",
    "subject",
    "message_sha256",
    "content_sha256",
]


def files_frame(arrivals: list[Arrival]) -> pd.DataFrame:
    """One row per archived file: each inbox file, and a mail's attachments (submissions
    and documents) with the Message-ID and subject of the mail they came in."""
    import pandas as pd

    rows: dict[str, tuple] = {}
    for a in arrivals:
        first = a.submissions[0] if a.submissions else None
        mail = first if first is not None and first.source in ("eml", "mailbox") else None
        alone = mail is not None and mail.submission_id == a.sha256  # a mail, no workbook
        rows[a.sha256] = (
            a.sha256,
            mail.name if mail is not None and alone else a.path.name,  # what the unit sent
            a.size,
            "mailbox" if mail and mail.source == "mailbox" else "inbox",
            first.sender if first else None,
            a.received_at,
            str(a.archived_path),
            mail.message_id if mail else None,
            mail.subject if mail else None,
            None,
            None,
        )
        for s in (*a.submissions, *a.documents):
            if s.submission_id != a.sha256:
                rows[s.submission_id] = (
                    s.submission_id,
                    s.name,
                    s.size,
                    s.source,
                    s.sender,
                    s.received_at,
                    str(s.archived_path),
                    s.message_id,
                    s.subject,
                    s.mail_sha256,
                    s.resend_of,
                )
    return pd.DataFrame(list(rows.values()), columns=FILE_COLUMNS)


def attachment_rows(batch: Batch) -> list[tuple]:
    """(submission_id, sha256, name, size, role) linking each submission to the workbook
    itself and to the documents that came with it (a docx or pdf plan): in its mail, or
    beside it in the inbox or the upload (`intake.pair_documents`).  A workbook sent
    again unchanged (a duplicate) with a document it lacked gets the document linked."""
    by_path = {a.path: a for a in batch.arrivals}
    # a resend of an accepted file: its documents go with the accepted submission
    accepted = {inc.submission_id: first["submission_id"] for inc, first in batch.resent}
    rows = []
    for inc in [ex.incoming for ex in batch.examined] + batch.duplicates:
        arrival = by_path.get(inc.origin)
        if arrival is None or not arrival.documents:
            continue
        sid = accepted.get(inc.submission_id, inc.submission_id)
        rows.append((sid, sid, inc.name, inc.size, "workbook"))
        rows += [(sid, d.submission_id, d.name, d.size, "document") for d in arrival.documents]
    return rows


# The columns of each table that batch_frames fills, in the warehouse's order.
SUBMISSION_COLUMNS = (
    "submission_id",
    "unit_code",
    "cycle_id",
    "received_at",
    "outcome",
    "late",
    "n_errors",
    "n_warnings",
    "file_format",
    "batch_id",
)
INFO_COLUMNS = ("submission_id", "key", "value", "cell")
INITIATIVE_COLUMNS = (
    "submission_id",
    "row_no",
    "title",
    "author",
    "field",
    "applied_on",
    "effect",
    "recognition",
    "cell",
)
PROPOSAL_COLUMNS = (
    "submission_id",
    "row_no",
    "subject_type",
    "name",
    "position",
    "reward_form",
    "summary",
    "cell",
    "refused",
    "birth_year",
    "gender",
    "previous_awards",
)
PROPOSALS = tuple(c for c in PROPOSAL_COLUMNS if c != "refused")  # the counted rows
RESULT_COLUMNS = (
    "submission_id",
    "rule_id",
    "severity",
    "sheet",
    "cell",
    "value",
    "message_vi",
    "fix_vi",
)
ATTACHMENT_COLUMNS = ("submission_id", "sha256", "name", "size_bytes", "role")
_problem_row = attrgetter(*RESULT_COLUMNS[1:])  # a Problem's fields, as the table orders them


def _submission_row(ex: Examined, batch_id: str) -> tuple:
    """The submissions row of one examined file (unreadable ones too)."""
    p = ex.parsed
    fmt = p.file_format if p else ex.incoming.name.rsplit(".", 1)[-1].lower()
    return (
        ex.incoming.submission_id,
        ex.unit.code if ex.unit else None,
        ex.cycle.id if ex.cycle else None,
        ex.incoming.received_at,
        ex.outcome,
        ex.late,
        ex.count(ERROR),
        ex.count(WARNING),
        fmt,
        batch_id,
    )


def _frame(
    columns: tuple[str, ...], sids: list[str], counts: list[int], data: dict[str, list]
) -> pd.DataFrame:
    """The frame of `columns`: the first, the submission id, repeated `counts` times
    each; the others from `data`.  Built a column at a time: a tuple per row costs
    pandas more than the columns themselves."""
    import numpy as np
    import pandas as pd

    sid = np.repeat(np.array(sids, dtype=object), counts)
    df = pd.DataFrame({columns[0]: sid, **data}, columns=list(columns))
    return df.astype(object) if df.empty else df  # no rows: text columns would be float


def _records_frame(
    sids: list[str], records: list[list[dict]], columns: tuple[str, ...]
) -> pd.DataFrame:
    """The frame of each submission's records (a parsed sheet's rows, as dicts)."""
    rows = [r for rs in records for r in rs]
    data = {c: list(map(methodcaller("get", c), rows)) for c in columns[1:]}
    return _frame(columns, sids, [len(rs) for rs in records], data)


def _info_frame(sids: list[str], infos: list[dict]) -> pd.DataFrame:
    """The frame of each submission's ThongTin (key → (value, cell))."""
    keys: list = []
    values: list = []
    cells: list = []
    for info in infos:
        keys.extend(info)
        values.extend(map(itemgetter(0), info.values()))
        cells.extend(map(itemgetter(1), info.values()))
    data = {"key": keys, "value": values, "cell": cells}
    return _frame(INFO_COLUMNS, sids, [len(i) for i in infos], data)


def batch_frames(batch: Batch) -> dict:
    """One DataFrame per warehouse table, the rows of every new submission."""
    import pandas as pd

    subs = [_submission_row(ex, batch.batch_id) for ex in batch.examined]
    results = [
        (ex.incoming.submission_id, *_problem_row(q)) for ex in batch.examined for q in ex.problems
    ]
    readable = [(ex.incoming.submission_id, ex.parsed) for ex in batch.examined if ex.parsed]
    sids = [sid for sid, _ in readable]
    proposals = [p.proposals for _, p in readable]
    vals = (
        batch.values
        if batch.values is not None
        else values_frame([ex for ex in batch.examined if ex.parsed is not None])
    )
    vals = vals.drop(columns="cycle_id").rename(columns={"code": "indicator_code"})
    return {
        "submissions": pd.DataFrame(subs, columns=list(SUBMISSION_COLUMNS)),
        "submission_info": _info_frame(sids, [p.info for _, p in readable]),
        "submission_values": vals,
        "initiatives": _records_frame(
            sids, [p.initiatives for _, p in readable], INITIATIVE_COLUMNS
        ),
        "proposals": _records_frame(
            sids, [[r for r in rs if not r.get("refused")] for rs in proposals], PROPOSALS
        ),
        "refused_proposals": _records_frame(
            sids, [[r for r in rs if r.get("refused")] for rs in proposals], PROPOSAL_COLUMNS
        ),
        "validation_results": pd.DataFrame(results, columns=list(RESULT_COLUMNS)),
        "attachments": pd.DataFrame(attachment_rows(batch), columns=list(ATTACHMENT_COLUMNS)),
    }


def values_frame(readable: list[Examined]) -> pd.DataFrame:
    """Every value read from these submissions, built column by column: no tuple per
    row, which costs more than the bulk insert itself.  Values that came back from pool
    workers as columns (`ValueColumns`) are taken a run of files at a time.  Columns:
    submission_id, cycle_id, code, measure, value, raw, note, cell."""
    import numpy as np
    import pandas as pd

    from thidua.parse import VALUE_FIELDS, ValueColumns

    cols: tuple[list, ...] = tuple([] for _ in VALUE_FIELDS)
    run = None  # [columns, start, stop] not yet copied

    def flush() -> None:
        if run is not None:
            for out, col in zip(cols, run[0], strict=True):
                out.extend(col[run[1] : run[2]])

    parsed: list[Parsed] = [ex.parsed for ex in readable if ex.parsed is not None]
    for p in parsed:
        vals = p.values
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
    counts = [len(p.values) for p in parsed]

    def repeated(items: list) -> np.ndarray:
        return np.repeat(np.array(items, dtype=object), counts)

    df = pd.DataFrame(
        {
            "submission_id": repeated([ex.incoming.submission_id for ex in readable]),
            "cycle_id": repeated([ex.cycle.id if ex.cycle else None for ex in readable]),
            **dict(zip(VALUE_FIELDS, cols, strict=True)),
        }
    )
    if df.empty:  # no values: text columns would come out float
        df = df.astype(object)
    df["value"] = df["value"].astype(float)
    return df
