"""The only code that writes the warehouse.  Each function is one transaction.

Callers pass an open read-write connection (see `warehouse.db.connect`); flows reach
these functions through a single load task per batch, guarded by the `duckdb-writer`
global concurrency limit when a Prefect server runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import duckdb
import pandas as pd

from thidua.config import Config, Indicator
from thidua.errors import ThiduaError
from thidua.reminders import RESULT_COLUMNS
from warehouse.db import scalar


@contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, **frames: pd.DataFrame
) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction; each of `frames` is visible to its SQL under its keyword name
    until it ends, committed or rolled back."""
    for name, df in frames.items():
        con.register(name, df)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        for name in frames:
            con.unregister(name)


def _warn_expr(ind: Indicator) -> str | None:
    if ind.warn_at_most is None:
        return None
    factor, code = ind.warn_at_most
    return f"{factor:g}*{code}"


def _replace_if_changed(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Rewrite a config-derived table only when its content differs (keeps init a no-op)."""
    if con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() == sorted(rows):
        return
    con.execute(f"DELETE FROM {table}")
    con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)


# The versioned columns of a unit (besides its code), as config gives them.
UNIT_FIELDS = (
    "name",
    "kind",
    "block",
    "email",
    "head_title",
    "head_email",
    "valid_from",
    "valid_to",
    "tags",
)


def sync_config(con: duckdb.DuckDBPyConnection, cfg: Config) -> dict[str, int]:
    """Bring registry, indicators and cycles in line with config; idempotent.

    A unit whose registry entry changed gets a new version and the old one is retired;
    units gone from config are retired, never deleted, so old cycles keep their set.
    """
    with transaction(con, cfg_units=_units_frame(cfg)):
        changed, added, removed = _sync_units(con)
        _replace_if_changed(con, "indicators", _indicator_rows(cfg))
        _replace_if_changed(con, "cycles", _cycle_rows(cfg))
    return {
        "units_added": added,
        "units_changed": changed,
        "units_retired": removed,
        "indicators": len(cfg.indicators),
        "cycles": len(cfg.cycles),
    }


def _units_frame(cfg: Config) -> pd.DataFrame:
    """The config's units, tags as "a;b" (a list column of empty lists has no pandas type)."""
    units = pd.DataFrame(
        [(u.code, *(getattr(u, f) for f in UNIT_FIELDS[:-1]), ";".join(u.tags)) for u in cfg.units],
        columns=["code", *UNIT_FIELDS],
    )
    units["valid_from"] = pd.to_datetime(units["valid_from"]).dt.date
    units["valid_to"] = pd.to_datetime(units["valid_to"]).dt.date
    return units


def _sync_units(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """New versions for the changed units of `cfg_units`: (changed, added, retired)."""
    cols = UNIT_FIELDS
    con.execute(f"""
        CREATE TEMP TABLE unit_changes AS
        WITH c AS (SELECT * REPLACE (CASE WHEN tags = '' THEN []::VARCHAR[]
                                          ELSE string_split(tags, ';') END AS tags)
                   FROM cfg_units)
        SELECT c.*, u.code IS NOT NULL AS existed FROM c
        LEFT JOIN units u USING (code)
        WHERE u.code IS NULL
           OR ({", ".join("c." + x for x in cols)})
              IS DISTINCT FROM ({", ".join("u." + x for x in cols)})
    """)
    changed, added = con.execute(
        "SELECT count(*) FILTER (existed), count(*) FILTER (NOT existed) FROM unit_changes"
    ).fetchall()[0]
    removed = scalar(
        con,
        """
        UPDATE unit_versions SET retired_at = now()
        WHERE retired_at IS NULL AND code NOT IN (SELECT code FROM cfg_units)
    """,
    )
    con.execute("""
        UPDATE unit_versions SET retired_at = now()
        WHERE retired_at IS NULL AND code IN (SELECT code FROM unit_changes)
    """)
    con.execute(f"""
        INSERT INTO unit_versions (code, version, {", ".join(cols)})
        SELECT c.code, coalesce(max(v.version), 0) + 1, {", ".join("c." + x for x in cols)}
        FROM unit_changes c LEFT JOIN unit_versions v USING (code)
        GROUP BY ALL
    """)
    con.execute("DROP TABLE unit_changes")
    return changed, added, removed


def _indicator_rows(cfg: Config) -> list[tuple]:
    """The indicators table's rows, in its column order."""
    return [
        (
            i.code,
            i.name_vi,
            i.unit_vi,
            list(i.kinds),
            i.type,
            i.group,
            i.aggregate,
            i.min,
            i.max,
            i.at_most,
            _warn_expr(i),
            i.warn_yoy_factor,
            list(i.tags),
        )
        for i in cfg.indicators
    ]


def _cycle_rows(cfg: Config) -> list[tuple]:
    """The cycles table's rows, in its column order."""
    return [
        (
            c.id,
            c.kind,
            c.title,
            c.year,
            c.phase,
            c.period_start,
            c.period_end,
            c.due_original,
            c.due,
            list(c.reward_forms),
        )
        for c in cfg.cycles
    ]


# -- collection ------------------------------------------------------------------------


def record_files(con: duckdb.DuckDBPyConnection, files: pd.DataFrame) -> int:
    """Record archived files (sha256, name, size, source, sender, received_at, path);
    a file already recorded keeps its first row.  Returns how many were new."""
    with transaction(con, batch_files=files):
        new = scalar(
            con,
            """
            INSERT INTO files BY NAME
            SELECT * FROM batch_files
            WHERE sha256 NOT IN (SELECT sha256 FROM files)
            QUALIFY row_number() OVER (PARTITION BY sha256) = 1""",
        )
    return new


# Loaded as they come; submission_values also gets its submission's integer key (`sk`,
# migration 003), which rollups join on instead of the sha256.
LOAD_TABLES = (
    "submission_info",
    "initiatives",
    "proposals",
    "refused_proposals",
    "validation_results",
)


def load_submissions(con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> int:
    """Load a batch of examined submissions, all tables in one transaction.

    A submission already in the warehouse (same sha256) is skipped with all its rows,
    so a rerun after a crash loads each file once.  Versions number the submissions of
    each (unit, cycle) in order of arrival, continuing from those already loaded.
    Returns the number of submissions inserted.
    """
    with transaction(con, **{f"batch_{name}": df for name, df in frames.items()}):
        con.execute("""
            CREATE OR REPLACE TEMP TABLE batch_new AS
            SELECT DISTINCT submission_id FROM batch_submissions
            WHERE submission_id NOT IN (SELECT submission_id FROM submissions)""")
        inserted = scalar(
            con,
            """
            INSERT INTO submissions BY NAME
            SELECT b.* EXCLUDE (version_in_batch),
                   CASE WHEN b.unit_code IS NOT NULL AND b.cycle_id IS NOT NULL
                        THEN coalesce(v.last, 0) + b.version_in_batch END AS version,
                   now() AS loaded_at
            FROM (SELECT *, row_number() OVER (PARTITION BY unit_code, cycle_id
                                               ORDER BY received_at, submission_id)
                            AS version_in_batch
                  FROM batch_submissions
                  WHERE submission_id IN (SELECT submission_id FROM batch_new)) b
            LEFT JOIN (SELECT unit_code, cycle_id, max(version) AS last FROM submissions
                       GROUP BY ALL) v USING (unit_code, cycle_id)""",
        )
        for table in LOAD_TABLES:
            con.execute(f"""
                INSERT INTO {table} BY NAME SELECT * FROM batch_{table}
                WHERE submission_id IN (SELECT submission_id FROM batch_new)""")
        # Documents link to new submissions, and to known ones sent again with a document
        con.execute("""
            INSERT INTO attachments BY NAME
            SELECT * FROM batch_attachments
            WHERE submission_id IN (SELECT submission_id FROM submissions)
            QUALIFY row_number() OVER (PARTITION BY submission_id, sha256) = 1
            ON CONFLICT DO NOTHING""")
        con.execute("""
            INSERT INTO submission_values BY NAME
            SELECT v.*, s.sk FROM batch_submission_values v
            JOIN submissions s USING (submission_id)
            WHERE submission_id IN (SELECT submission_id FROM batch_new)""")
        # Each new version's automatic review state (an officer's decision is a later row)
        con.execute("""
            INSERT INTO review_log (submission_id, unit_code, cycle_id, version, to_state,
                                    actor)
            SELECT s.submission_id, s.unit_code, s.cycle_id, s.version,
                   CASE WHEN s.outcome IN ('rejected', 'unreadable') THEN 'has_issues'
                        ELSE 'received' END, 'system'
            FROM submissions s
            WHERE s.submission_id IN (SELECT submission_id FROM batch_new)
              AND s.unit_code IS NOT NULL AND s.cycle_id IS NOT NULL
              AND s.version IS NOT NULL
            ORDER BY s.unit_code, s.cycle_id, s.version""")
        con.execute("DROP TABLE batch_new")
    return inserted


def record_acknowledgments(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> None:
    """Upsert acknowledgment outcomes (submission_id, status, sent_at, message_id, error,
    recipients): `_record_attempts`."""
    _record_attempts(con, "acknowledgments", "submission_id", rows)


def owe_resends(con: duckdb.DuckDBPyConnection, resends: list[tuple[str, str]]) -> None:
    """Log these resends (resend id, the accepted submission it repeats) as owed an
    answer (`owed`, no attempt yet) before any is sent, so one not answered when the
    run dies is answered by the next; a resend already logged is left as it is."""
    frame = pd.DataFrame(resends, columns=["resend_id", "submission_id"])
    with transaction(con, owed_notices=frame):
        con.execute("""
            INSERT OR IGNORE INTO resend_notices (resend_id, submission_id, status, attempts)
            SELECT resend_id, submission_id, 'owed', 0 FROM owed_notices""")


def record_resend_notices(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> None:
    """Upsert the answers to resends of accepted files (resend_id, submission_id, status,
    sent_at, message_id, recipients, error): `_record_attempts`."""
    _record_attempts(con, "resend_notices", "resend_id", rows)


def _record_attempts(
    con: duckdb.DuckDBPyConnection, table: str, key: str, rows: pd.DataFrame
) -> None:
    """One upsert of mail outcomes for acknowledgments and resend answers alike: each call
    on a `key` counts one more attempt; a sent one is never overwritten."""
    with transaction(con, batch_attempts=rows):
        con.execute(f"""
            INSERT INTO {table} BY NAME
            SELECT *, 1 AS attempts, now() AS last_attempt_at FROM batch_attempts
            ON CONFLICT ({key}) DO UPDATE SET
                status = excluded.status, attempts = {table}.attempts + 1,
                last_attempt_at = excluded.last_attempt_at,
                sent_at = excluded.sent_at, message_id = excluded.message_id,
                recipients = excluded.recipients, error = excluded.error
            WHERE {table}.status <> 'sent'""")


def record_reminders(con: duckdb.DuckDBPyConnection, results: pd.DataFrame) -> int:
    """Log a batch of reminder attempts (columns `RESULT_COLUMNS`); return rows written.

    A failed attempt of a stage already logged counts one more attempt; a row once
    `sent` is never overwritten, so a stage is never recorded as sent twice.
    """
    if results.empty:
        return 0
    with transaction(con, reminder_batch=results[RESULT_COLUMNS]):
        written = scalar(
            con,
            f"""
            INSERT INTO reminders ({", ".join(RESULT_COLUMNS)})
            SELECT {", ".join(RESULT_COLUMNS)} FROM reminder_batch
            ON CONFLICT (unit_code, cycle_id, stage) DO UPDATE SET
                status = excluded.status, attempts = reminders.attempts + 1,
                sent_at = excluded.sent_at, message_id = excluded.message_id,
                recipients = excluded.recipients, error = excluded.error,
                updated_at = now()
            WHERE reminders.status NOT IN ('sent', 'bounced')
        """,
        )
    return written


def mark_alerted(con: duckdb.DuckDBPyConnection, failing: pd.DataFrame) -> None:
    """The admin was told of these failing messages (`queries.failing_mail` rows)."""
    with transaction(con, alerted=failing[["kind", "id", "unit_code", "cycle_id", "stage"]]):
        con.execute("""UPDATE acknowledgments a SET alerted_at = now() FROM alerted t
                       WHERE t.kind = 'acknowledgment' AND a.submission_id = t.id""")
        con.execute("""UPDATE resend_notices r SET alerted_at = now() FROM alerted t
                       WHERE t.kind = 'resend' AND r.resend_id = t.id""")
        con.execute("""UPDATE reminders r SET alerted_at = now() FROM alerted t
                       WHERE t.kind = 'reminder' AND r.unit_code = t.unit_code
                         AND r.cycle_id = t.cycle_id AND r.stage = t.stage""")


def record_rollup(
    con: duckdb.DuckDBPyConnection,
    cycle_id: str,
    kind: str,
    version: int,
    output_dir: str,
    headline: dict,
    submission_ids: list[str],
) -> str:
    """Record one produced rollup version and the submission versions behind it.

    The rollup id is `<cycle>-v<version>`; a version already taken raises (primary key),
    so two concurrent runs never share one.
    """
    import json

    rollup_id = f"{cycle_id}-v{version}"
    sources = pd.DataFrame({"submission_id": list(submission_ids)}, dtype="string")
    with transaction(con, rollup_src=sources):
        con.execute(
            "INSERT INTO rollups (rollup_id, cycle_id, kind, version, output_dir, "
            "headline) VALUES (?, ?, ?, ?, ?, ?)",
            [
                rollup_id,
                cycle_id,
                kind,
                version,
                output_dir,
                json.dumps(headline, ensure_ascii=False, default=str),
            ],
        )
        con.execute(
            "INSERT INTO rollup_sources SELECT DISTINCT ?, submission_id FROM rollup_src",
            [rollup_id],
        )
    return rollup_id


# -- the mailbox (issue 14) --------------------------------------------------------------

MAIL_COLUMNS = [
    "mailbox",
    "uidvalidity",
    "uid",
    "sha256",
    "message_id",
    "subject",
    "sender",
    "size_bytes",
    "kind",
]


def record_mail(
    con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, files: pd.DataFrame | None = None
) -> int:
    """Record fetched messages (`MAIL_COLUMNS`) by (mailbox, UIDVALIDITY, UID), and the
    archived files of those not taken in (DSNs, auto-replies), in one transaction; a
    message already recorded keeps its row.  Returns how many were new."""
    frames = {"batch_mail": rows[MAIL_COLUMNS]}
    if files is not None and not files.empty:
        frames["batch_mail_files"] = files
    with transaction(con, **frames):
        if "batch_mail_files" in frames:
            con.execute("""
                INSERT INTO files BY NAME SELECT * FROM batch_mail_files
                WHERE sha256 NOT IN (SELECT sha256 FROM files)
                QUALIFY row_number() OVER (PARTITION BY sha256) = 1""")
        new = scalar(
            con,
            f"""
            INSERT INTO mail_messages ({", ".join(MAIL_COLUMNS)})
            SELECT {", ".join(MAIL_COLUMNS)} FROM batch_mail
            ON CONFLICT DO NOTHING""",
        )
    return new


def record_mail_filed(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> None:
    """Where each message was moved (mailbox, uidvalidity, uid, folder, verdict, reason)."""
    with transaction(con, batch_filed=rows):
        con.execute("""
            UPDATE mail_messages m SET folder = b.folder, verdict = b.verdict,
                   reason = b.reason, moved_at = now()
            FROM batch_filed b
            WHERE m.mailbox = b.mailbox AND m.uidvalidity = b.uidvalidity AND m.uid = b.uid""")


def record_bounces(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> pd.DataFrame:
    """Record delivery failures (dsn_sha256, message_id, recipient, status, diagnostic),
    matched by Message-ID to the reminder or acknowledgment they answer, whose status
    becomes `bounced`.  Returns the new bounce rows with what they answer."""
    if rows.empty:
        return rows.assign(answers=None, unit_code=None, cycle_id=None, stage=None)
    with transaction(con, batch_bounces=rows):
        con.execute("""
            CREATE OR REPLACE TEMP TABLE new_bounces AS
            SELECT b.dsn_sha256, b.message_id, coalesce(b.recipient, '') AS recipient,
                   b.status, b.diagnostic,
                   CASE WHEN r.message_id IS NOT NULL THEN 'reminder'
                        WHEN a.message_id IS NOT NULL THEN 'acknowledgment' END AS answers,
                   coalesce(r.unit_code, s.unit_code) AS unit_code,
                   coalesce(r.cycle_id, s.cycle_id) AS cycle_id, r.stage
            FROM batch_bounces b
            LEFT JOIN reminders r ON r.message_id = b.message_id
            LEFT JOIN acknowledgments a ON a.message_id = b.message_id
            LEFT JOIN submissions s ON s.submission_id = a.submission_id
            WHERE (b.dsn_sha256, b.message_id, coalesce(b.recipient, '')) NOT IN
                  (SELECT (dsn_sha256, message_id, recipient) FROM bounces)
            QUALIFY row_number() OVER (PARTITION BY b.dsn_sha256, b.message_id,
                                       coalesce(b.recipient, '')) = 1""")
        con.execute("INSERT INTO bounces BY NAME SELECT * FROM new_bounces")
        con.execute("""
            UPDATE reminders SET status = 'bounced', updated_at = now(),
                   error = 'bounced: ' || n.recipient || ' ' || coalesce(n.status, '')
            FROM new_bounces n WHERE reminders.message_id = n.message_id""")
        con.execute("""
            UPDATE acknowledgments SET status = 'bounced',
                   error = 'bounced: ' || n.recipient || ' ' || coalesce(n.status, '')
            FROM new_bounces n WHERE acknowledgments.message_id = n.message_id""")
        out = con.execute("SELECT * FROM new_bounces").df()
        con.execute("DROP TABLE new_bounces")
    return out


def add_upload_links(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """Record new upload links (id, unit, cycle, expires_at) (`thidua.links`)."""
    with transaction(con):
        con.executemany(
            "INSERT INTO upload_links (id, unit_code, cycle_id, expires_at) VALUES (?, ?, ?, ?)",
            rows,
        )


def revoke_upload_links(con: duckdb.DuckDBPyConnection, unit: str, cycle: str) -> int:
    """Revoke every live link of the unit for the cycle; returns how many."""
    with transaction(con):
        return scalar(
            con,
            """
            UPDATE upload_links SET revoked_at = now()
            WHERE unit_code = ? AND cycle_id = ? AND revoked_at IS NULL""",
            [unit, cycle],
        )


class ReviewConflict(ThiduaError):
    "The version's state changed meanwhile, or it is locked"


def record_review(
    con: duckdb.DuckDBPyConnection,
    submission_id: str,
    from_state: str,
    to_state: str,
    actor: str,
    comment: str | None,
) -> None:
    """Append an officer's decision on a version, in one transaction, provided its state
    is still `from_state` (another officer may have decided meanwhile)."""
    with transaction(con):
        row = con.execute(
            """
            SELECT unit_code, cycle_id, version, to_state FROM review_states
            WHERE submission_id = ?""",
            [submission_id],
        ).fetchone()
        if row is None or row[3] != from_state:
            raise ReviewConflict(
                f"state of {submission_id[:12]} is now "
                f"{row[3] if row else 'unknown'}, not {from_state}"
            )
        con.execute(
            """
            INSERT INTO review_log (submission_id, unit_code, cycle_id, version, from_state,
                                    to_state, actor, comment)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [submission_id, row[0], row[1], row[2], from_state, to_state, actor, comment],
        )


def open_meeting(
    con: duckdb.DuckDBPyConnection,
    cycle_id: str,
    held_on: date,
    present: list[str],
    members: int,
    actor: str,
) -> int:
    """A council meeting of a cycle; returns its id."""
    with transaction(con):
        return scalar(
            con,
            """
            INSERT INTO council_meetings (cycle_id, held_on, present, members, opened_by)
            VALUES (?, ?, ?, ?, ?) RETURNING id""",
            [cycle_id, held_on, present, members, actor],
        )


def record_proposal_change(
    con: duckdb.DuckDBPyConnection, ids: list[str], from_state: str, change: dict
) -> int:
    """Append one change of state to each proposal of `ids` (short ids of
    `proposal_states`), in one transaction, provided each is still in `from_state`;
    `change` holds to_state, actor and the vote or document columns.  Returns the count."""
    cols = ("meeting_id", "votes_for", "members", "note", "doc_no", "doc_date")
    with transaction(con):
        found = con.execute(
            "SELECT id, state FROM proposal_states WHERE list_contains(?, id)", [ids]
        ).fetchall()
        stale = sorted(
            {i for i, s in found if s != from_state} | (set(ids) - {i for i, _ in found})
        )
        if stale:
            raise ReviewConflict(f"proposals {', '.join(stale)} are no longer {from_state}")
        con.execute(
            f"""
            INSERT INTO proposal_log (proposal_key, unit_code, cycle_id, submission_id, row_no,
                subject_type, name, position, reward_form, summary, content, from_state,
                to_state, actor, {", ".join(cols)})
            SELECT proposal_key, unit_code, cycle_id, submission_id, row_no, subject_type,
                   name, position, reward_form, summary,
                   proposal_content(subject_type, name, position, summary), state, ?, ?,
                   {", ".join("?" for _ in cols)}
            FROM proposal_states WHERE list_contains(?, id)
            ORDER BY unit_code, row_no""",
            [change["to_state"], change["actor"], *(change.get(c) for c in cols), ids],
        )
    return len(ids)


def add_award_entries(
    con: duckdb.DuckDBPyConnection, entries: list[dict], source: str, actor: str
) -> list[int]:
    """Append awards entered by hand to the register (`award_entries`), in one
    transaction; `entries` are `thidua.register.AwardEntry.row()`.  Returns their ids."""
    cols = (
        "reward_form",
        "subject_type",
        "name",
        "position",
        "unit_name",
        "birth_year",
        "gender",
        "doc_no",
        "doc_date",
        "cycle_id",
        "summary",
    )
    ids = []
    with transaction(con):
        for e in entries:
            row = con.execute(
                f"""INSERT INTO award_entries ({", ".join(cols)}, source, actor)
                VALUES ({", ".join("?" for _ in cols)}, ?, ?) RETURNING id""",
                [*(e.get(c) for c in cols), source, actor],
            ).fetchone()
            ids.append(int(row[0]) if row else 0)
    return ids
