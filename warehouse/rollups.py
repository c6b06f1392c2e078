"""Read queries behind the annual and phase rollups: DataFrames straight from DuckDB.

The maths lives in `warehouse/sql/rollup.sql` (table macros); this module installs the
macros on a connection and selects from them.  Nothing here writes the warehouse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from importlib import resources

import duckdb
import pandas as pd
import pyarrow as pa

from thidua.awards import APPROVED
from thidua.config import INDICATOR_CODE_RE
from thidua.errors import UnkeyedValues
from thidua.layout import NARRATIVE_KEYS, NOTHING_TO_SAY
from thidua.settings import RollupSettings, Scoring
from warehouse.db import scalar

SCORING_KEYS = ("on_time", "late", "missing", "quality", "quality_with_warnings", "performance")


def prepare(
    con: duckdb.DuckDBPyConnection,
    rollup: RollupSettings,
    cycles: list[str],
    counts: str = "accepted",
) -> None:
    """Install the rollup macros and the ratio definitions on this connection, and
    materialise the status, unit ratios and value aggregates of `cycles` (every cycle the
    rollup reads) once.  `rollup` names the weight of percents and the ratios; `counts`
    (`[web] rollup_counts`) is `accepted` (every accepted version) or `approved` (only
    the versions an officer approved)."""
    # The column statistics answer the first test at once; the join only runs when needed.
    unkeyed = scalar(con, "SELECT count(*) FROM submission_values WHERE sk IS NULL") and scalar(
        con,
        """
            SELECT count(*) FROM submission_values
            WHERE sk IS NULL AND submission_id IN (SELECT submission_id FROM submissions)""",
    )
    if unkeyed:  # a rollup would silently leave them out
        raise UnkeyedValues(
            f"{unkeyed} submission values have no sk: values must be loaded "
            "by warehouse.writer.load_submissions"
        )
    defs = pd.DataFrame(
        [
            (n, r.key, r.numerator, r.denominator, r.population, ";".join(r.population_tags))
            for n, r in enumerate(rollup.ratios, 1)
        ],
        columns=["rno", "ratio", "numerator", "denominator", "population", "population_tags"],
    )
    con.register("ratio_defs", defs)
    con.execute("SET VARIABLE rollup_cycles = $cycs", {"cycs": cycles})
    con.execute(
        "SET VARIABLE invited_kinds = $kinds::VARCHAR[]", {"kinds": list(rollup.invited_kinds)}
    )
    # The common-subplan optimizer materialises scans a query shares (rollup_st, twice
    # in the scores: up to millions of rows); scanning twice measured faster.
    con.execute("SET disabled_optimizers = 'common_subplan'")
    counted_from = {"accepted": "submissions", "approved": "approved_submissions"}[counts]
    con.execute(
        _sql("rollup.sql").format(**_ratio_sql(defs, rollup.weight), counted_from=counted_from)
    )


def _ratio_sql(defs: pd.DataFrame, weight: str) -> dict[str, str]:
    """The parts of rollup.sql generated from the ratio definitions: the codes and pivot
    columns of rollup_terms (the weight and every ratio term), each ratio's columns in
    rollup_uw (app_k: the unit is of the ratio's population: its kind, and one of its
    tags when the ratio names some), and the long form rollup_ur."""
    codes = sorted({weight, *defs["numerator"], *defs["denominator"]})
    bad = [c for c in codes if not INDICATOR_CODE_RE.match(c)]
    if bad:
        raise ValueError(f"ratio terms must be indicator codes: {bad}")
    ks = list(defs["rno"])
    terms = dict(zip(ks, zip(defs["numerator"], defs["denominator"], strict=True), strict=True))
    has = " + ".join(f"(pct_{k} IS NOT NULL)::INTEGER" for k in ks)
    pop = _populations(defs)
    app = " + ".join(f"app_{k}::INTEGER" for k in ks)
    return {
        "weight": weight,
        "term_codes": ", ".join(f"'{c}'" for c in codes),
        "term_columns": ", ".join(
            f"max(v.value) FILTER (WHERE v.indicator_code = '{c}') AS {c}" for c in codes
        ),
        "ratio_columns": ", ".join(
            f"CASE WHEN {pop[k]} THEN {n} END AS num_{k}, "
            f"CASE WHEN {pop[k]} THEN {d} END AS den_{k}, "
            f"CASE WHEN {pop[k]} AND {d} > 0 THEN 100.0 * {n} / {d} END AS pct_{k}, "
            f"{pop[k]} AS app_{k}"
            for k, (n, d) in terms.items()
        ),
        "rank_columns": ", ".join(
            f"CASE WHEN pct_{k} IS NOT NULL THEN cume_dist() OVER "
            f"(PARTITION BY grp, pct_{k} IS NULL ORDER BY pct_{k}) END AS pr_{k}"
            for k in ks
        ),
        "perf_columns": f"{has} AS n_had, {app} AS n_ratios",
        "ratio_rows": " UNION ALL ".join(
            f"SELECT uid, grp, {k} AS rno, num_{k} AS numerator, den_{k} AS denominator, "
            f"pct_{k} AS pct, pr_{k} AS pr FROM rollup_uw WHERE pct_{k} IS NOT NULL"
            for k in ks
        ),
    }


def _populations(defs: pd.DataFrame) -> dict[int, str]:
    """Each ratio's population as a SQL condition on a unit's kind and tags (checked names
    only: they are pasted into the SQL)."""
    ks = list(defs["rno"])
    pops = dict(zip(ks, defs["population"], strict=True))
    bad = [p for p in pops.values() if not re.fullmatch(r"[a-z][a-z0-9_]*", p)]
    if bad:
        raise ValueError(f"ratio populations must be unit kinds: {bad}")
    tags = {
        k: [t for t in str(ts).split(";") if t]
        for k, ts in zip(ks, defs["population_tags"], strict=True)
    }
    bad = [t for ts in tags.values() for t in ts if not re.fullmatch(r"[a-z][a-z0-9-]*", t)]
    if bad:
        raise ValueError(f"ratio population tags must be tags: {bad}")
    return {
        k: f"(kind = '{pops[k]}'"
        + (f" AND list_has_any(tags, [{', '.join(repr(t) for t in tags[k])}])" if tags[k] else "")
        + ")"
        for k in ks
    }


def _sql(name: str) -> str:
    return resources.files("warehouse").joinpath(f"sql/{name}").read_text("utf-8")


# Integer and bool columns stay nullable pandas types (what .df() gives).
_NULLABLE = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pd.DataFrame:
    """A query's result as a DataFrame, through Arrow: text columns convert about 20×
    faster than with .df() (0.3–0.7 s per 800,000-row text column, measured).  Only the
    `params` the query names are passed: one dict serves a set of queries."""
    named = {k: params[k] for k in set(re.findall(r"\$(\w+)", sql)) if k in params}
    return (
        con.sql(sql, params=named)
        .to_arrow_table()
        .to_pandas(types_mapper=_NULLABLE.get, date_as_object=False)
    )


# Every table of one cycle's rollup: the query behind each (parameters: see cycle_tables).
CYCLE_QUERIES = {
    "completeness": """
            SELECT * EXCLUDE (cycle_id) FROM rollup_completeness($cycs)
            ORDER BY CASE level WHEN 'commune' THEN 0 WHEN 'kind' THEN 1 ELSE 2 END, grp""",
    "indicators": """
            SELECT t.* EXCLUDE (cycle_id) FROM rollup_indicator_totals($cycs, 'value') t
            JOIN indicators i ON i.code = t.indicator_code
            ORDER BY i.grp, t.indicator_code""",
    "indicators_by_kind": """
            SELECT * EXCLUDE (cycle_id) FROM rollup_indicator_totals_by_kind($cycs, 'value')
            ORDER BY kind, grp, indicator_code""",
    "plans": """
            SELECT e.code, e.name, e.kind, e.block,
                   count(s.submission_id) > 0 AS issued, min(s.received_at) AS received_at,
                   -- the plan document (docx/pdf) came with an accepted workbook: without
                   -- it the unit only registered its targets
                   bool_or(s.submission_id IN (SELECT submission_id FROM attachments
                                               WHERE role = 'document')) AS documented
            FROM expected_units e
            LEFT JOIN submissions s
                   ON s.cycle_id = $plan AND s.unit_code = e.code
                  AND s.outcome IN ('accepted', 'accepted_with_warnings')
            -- no plan cycle (the province's cycles): no plan table at all
            WHERE e.cycle_id = $cycle AND $plan <> ''
            GROUP BY ALL ORDER BY e.block, e.code""",
    "narratives": """
            SELECT s.code, s.name, s.kind, i.key, trim(i.value) AS text, i.cell
            FROM rollup_status($cycs) s JOIN submission_info i USING (submission_id)
            WHERE list_contains($keys, i.key) AND trim(coalesce(i.value, '')) <> ''
              -- "Không có" (nothing to say, as the template asks) is not a narrative
              AND lower(trim(i.value, ' .')) NOT IN (SELECT unnest($nothing))
            ORDER BY i.key, s.kind, s.code""",
    "ratios": """
            SELECT * EXCLUDE (cycle_id) FROM rollup_ratio_totals($cycs)
            ORDER BY level DESC, grp, ratio""",
    "units": """
            SELECT * EXCLUDE (cycle_id, uid, grp, ck, sk, pno) FROM rollup_scores($cycs, $on_time, $late, $missing,
                $quality, $quality_with_warnings, $performance, $content_only, $empty_zero,
                $target_plan, $target_measure, $target_codes, $target_cap)
            ORDER BY block, rank_in_block, code""",
    "unit_ratios": """
            SELECT code, ratio, numerator, denominator, round(pct, 2) AS pct,
                   round(pr, 4) AS percentile_rank
            FROM rollup_unit_ratios($cycs) ORDER BY code, ratio""",
    "initiatives": """
            SELECT s.code, s.name, i.row_no, i.title, i.author, i.field, i.applied_on,
                   i.effect, i.recognition, s.submission_id, s.version, i.cell
            FROM rollup_status($cycs) s JOIN initiatives i USING (submission_id)
            ORDER BY s.code, i.row_no""",
    # Only what the Hội đồng Thi đua – Khen thưởng xã approved (thidua.awards.APPROVED)
    "proposals": """
            SELECT s.code, s.name AS unit_name, p.row_no, p.subject_type, p.name, p.position,
                   p.reward_form, p.summary, s.submission_id, s.version, p.cell, d.to_state
                   AS state, d.doc_no, d.doc_date
            FROM rollup_status($cycs) s JOIN proposals p USING (submission_id)
            JOIN proposal_decisions d
              ON d.proposal_key = proposal_key(s.code, s.cycle_id, p.name, p.reward_form)
            WHERE list_contains($approved, d.to_state)
            ORDER BY p.reward_form, s.code, p.row_no""",
    "proposal_tally": """
            SELECT p.reward_form,
                   count(*) FILTER (WHERE p.subject_type = 'Tập thể') AS collectives,
                   count(*) FILTER (WHERE p.subject_type = 'Cá nhân') AS individuals,
                   count(*) FILTER (WHERE p.subject_type = 'Hộ gia đình') AS households,
                   count(*) AS total
            FROM rollup_status($cycs) s JOIN proposals p USING (submission_id)
            JOIN proposal_decisions d
              ON d.proposal_key = proposal_key(s.code, s.cycle_id, p.name, p.reward_form)
            WHERE list_contains($approved, d.to_state)
            GROUP BY ALL ORDER BY p.reward_form""",
    "council": """
            SELECT count(*) AS meetings, max(held_on) AS last_meeting
            FROM council_meetings WHERE cycle_id = $cycle""",
    "award_documents": """
            SELECT to_state, doc_no, doc_date, count(*) AS proposals
            FROM proposal_log WHERE cycle_id = $cycle
              AND to_state IN ('da-khen-thuong', 'da-trinh')
            GROUP BY ALL ORDER BY to_state, doc_date, doc_no""",
    "missing": """
            SELECT code, name, kind, block, status, version, received_at
            FROM rollup_status($cycs) WHERE status <> 'on_time'
            ORDER BY status DESC, block, code""",
}


@dataclass(frozen=True)
class Targets:
    """Where the block score finds the units' registered targets: the plan cycle, the
    measure (`target_2027`) and the indicators that can have a target."""

    plan: str
    measure: str
    codes: list[str]


def scoring_params(scoring: Scoring, targets: Targets | None = None) -> dict[str, object]:
    """The parameters of `rollup_scores` after `cycs`; no targets: percentile ranks only."""
    return {
        **{k: float(getattr(scoring, k)) for k in SCORING_KEYS},
        "content_only": scoring.quality_warnings == "content",
        "empty_zero": scoring.empty_ratio == "zero",
        "target_plan": [targets.plan if targets else ""],
        "target_measure": targets.measure if targets else "",
        "target_codes": targets.codes if targets else [""],
        "target_cap": float(scoring.target_cap),
    }


def cycle_tables(
    con: duckdb.DuckDBPyConnection,
    cycle_id: str,
    scoring: Scoring,
    plan: str | None = None,
    targets: Targets | None = None,
) -> dict[str, pd.DataFrame]:
    """Every table of one cycle's rollup, keyed by name (see docs in README).  `plan`:
    the plan cycle (ke_hoach) whose accepted submissions say a unit issued its plan
    (none: the `plans` table is empty); `targets`: the registered targets the block score
    measures performance against."""
    p = _cycle_params(cycle_id, scoring, plan, targets)
    return {name: frame(con, sql, p) for name, sql in CYCLE_QUERIES.items()}


def unit_scores(con: duckdb.DuckDBPyConnection, cycle_id: str, scoring: Scoring) -> pd.DataFrame:
    """The rollup's `units` table alone (status, quality and block score of each unit),
    for the council's page; `prepare` first, with `cycle_id`."""
    return frame(con, CYCLE_QUERIES["units"], _cycle_params(cycle_id, scoring, None, None))


def _cycle_params(
    cycle_id: str, scoring: Scoring, plan: str | None, targets: Targets | None
) -> dict:
    return {
        "cycs": [cycle_id],
        "cycle": cycle_id,
        "plan": plan or "",
        "keys": list(NARRATIVE_KEYS),
        "nothing": list(NOTHING_TO_SAY),
        **scoring_params(scoring, targets),
        "approved": list(APPROVED),
    }


def phase_tables(
    con: duckdb.DuckDBPyConnection,
    years: list[str],
    plan: str | None,
    target_measure: str,
    phase: str,
) -> dict[str, pd.DataFrame]:
    """The years of a phase side by side, per unit kind (long form), the targets registered
    per kind and per unit, and each unit's review figures checked against its annual
    reports.  The phase value of each kind is folded in `thidua.rollup.phase`."""
    p = {"cycs": years, "plan": [plan or ""], "phase": [phase], "measure": target_measure}
    queries = {
        "yearly_by_kind": """
            SELECT c.year, t.* EXCLUDE (cycle_id)
            FROM rollup_indicator_totals_by_kind($cycs, 'value') t
            JOIN cycles c ON c.id = t.cycle_id ORDER BY t.kind, t.indicator_code, c.year""",
        "targets_by_kind": """
            SELECT kind, indicator_code, total AS target, n_units AS target_units
            FROM rollup_indicator_totals_by_kind($plan, $measure)
            WHERE total IS NOT NULL ORDER BY kind, indicator_code""",
        "yearly_completeness": """
            SELECT c.year, t.* FROM rollup_completeness($cycs) t JOIN cycles c ON c.id = t.cycle_id
            WHERE t.level IN ('commune', 'block') ORDER BY c.year, t.level DESC, t.grp""",
        "yearly_ratios": """
            SELECT c.year, t.ratio, t.numerator, t.denominator, t.pct
            FROM rollup_ratio_totals($cycs) t
            JOIN cycles c ON c.id = t.cycle_id WHERE t.level = 'commune'
            ORDER BY t.ratio, c.year""",
        "unit_achievement": """
            SELECT * FROM rollup_unit_achievement($phase, $cycs, $plan, $measure)
            ORDER BY code, indicator_code""",
        "review_check": """
            SELECT * FROM rollup_review_check($phase, $cycs)
            ORDER BY flagged DESC, code, indicator_code""",
    }
    return {k: frame(con, sql, p) for k, sql in queries.items()}


def source_submissions(con: duckdb.DuckDBPyConnection, cycles: list[str]) -> pd.DataFrame:
    """The submission versions a rollup over these cycles counts (its provenance)."""
    return frame(
        con,
        """
        SELECT cycle_id, code AS unit_code, submission_id, version, received_at, outcome
        FROM rollup_status($cycs) WHERE submission_id IS NOT NULL
        ORDER BY cycle_id, unit_code""",
        {"cycs": cycles},
    )


def next_rollup_version(con: duckdb.DuckDBPyConnection, cycle_id: str) -> int:
    return scalar(
        con, "SELECT coalesce(max(version), 0) + 1 FROM rollups WHERE cycle_id = ?", [cycle_id]
    )


def register_tally(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pd.DataFrame:
    """The register's awards decided from `start` to `end`, per form: by subject (total =
    tập thể + cá nhân + hộ gia đình) and the awarded individuals by gender."""
    return frame(
        con,
        """
        SELECT reward_form,
               count(*) FILTER (WHERE subject_type = 'Tập thể') AS collectives,
               count(*) FILTER (WHERE subject_type = 'Cá nhân') AS individuals,
               count(*) FILTER (WHERE subject_type = 'Hộ gia đình') AS households,
               count(*) AS total,
               count(*) FILTER (WHERE subject_type = 'Cá nhân' AND gender = 'Nam') AS men,
               count(*) FILTER (WHERE subject_type = 'Cá nhân' AND gender = 'Nữ') AS women
        FROM award_register WHERE doc_date BETWEEN $start AND $end
        GROUP BY ALL ORDER BY reward_form""",
        {"start": start, "end": end},
    )
