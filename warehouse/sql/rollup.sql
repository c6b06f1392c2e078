-- Rollup building blocks: temporary tables and table macros, created on each connection
-- that rolls up (read-only is fine) by `warehouse.rollups.prepare`, which first sets the
-- variable `rollup_cycles` (every cycle the rollup reads), registers
-- `ratio_defs(rno, ratio, numerator, denominator)` and fills in the parts generated from
-- the ratios ({{placeholders}}: a pivot needs its columns named).  Status, ratio terms
-- and unit ratios are materialised once as narrow integer-keyed tables (rollup_st, whose
-- rowid is `uid`; rollup_terms; rollup_uw), the indicator totals as small aggregates
-- (rollup_agg, rollup_weighted); the macros take `cycs`, a list of cycle ids, so one query
-- serves an annual rollup (one cycle) and a phase (its years at once).

-- One row per (cycle, expected unit).  status: on_time when some accepted version
-- arrived on time, late when accepted versions exist but all came late, else missing;
-- first_received_at: when the first accepted version came (how late a late unit is).
-- The values come from the version that counts, the latest accepted one: the rule of
-- current_submissions, applied here in the same grouping as the status (one pass over
-- the submissions instead of two: 0.5 s less at national scale).  {counted_from} is
-- `submissions`, or `approved_submissions` when `[web] rollup_counts = "approved"`.
-- grp and ck: an integer per (cycle, block) and per (cycle, profile), with the cycle's
-- position in rollup_cycles in the high bits: windows partition and aggregates group on
-- one integer rather than on text (measured 35-45% less CPU to group 20 M values).
-- A profile (pno) is a distinct (kind, tags) of the registry: what decides which
-- indicators a unit holds (rollup_applies).  A commune has a handful.
CREATE OR REPLACE TEMP TABLE rollup_profiles AS
SELECT kind, tags, row_number() OVER (ORDER BY kind, tags) AS pno
FROM (SELECT DISTINCT kind, coalesce(tags, []::VARCHAR[]) AS tags FROM units);

-- (profile, indicator) pairs: an indicator applies to a unit when the unit's kind is one
-- of its kinds and, when it names tags, the unit carries one of them.
CREATE OR REPLACE TEMP TABLE rollup_applies_t AS
SELECT p.pno, p.kind, i.code AS indicator_code
FROM rollup_profiles p JOIN indicators i
  ON list_contains(i.kinds, p.kind)
 AND (len(coalesce(i.tags, []::VARCHAR[])) = 0 OR list_has_any(i.tags, p.tags));

CREATE OR REPLACE TEMP TABLE rollup_st AS
WITH accepted AS (
    SELECT cycle_id, unit_code, bool_or(NOT late) AS any_on_time,
           min(received_at) AS first_received_at, arg_max(sk, version) AS counted_sk
    FROM {counted_from}
    WHERE list_contains(getvariable('rollup_cycles'), cycle_id)
      AND outcome IN ('accepted', 'accepted_with_warnings')
    GROUP BY ALL
),
blocks AS (SELECT block, row_number() OVER (ORDER BY block) AS bno
           FROM (SELECT DISTINCT block FROM units))
SELECT e.cycle_id, e.code, e.name, e.kind, e.block, p.pno,
       CASE WHEN a.unit_code IS NULL THEN 'missing'
            WHEN a.any_on_time THEN 'on_time' ELSE 'late' END AS status,
       c.submission_id, c.sk, c.version, c.received_at, a.first_received_at, c.outcome,
       c.n_warnings, c.late,
       (list_position(getvariable('rollup_cycles'), e.cycle_id)::BIGINT << 32) + b.bno AS grp,
       (list_position(getvariable('rollup_cycles'), e.cycle_id)::BIGINT << 32) + p.pno AS ck
FROM expected_units e
JOIN blocks b USING (block)
JOIN rollup_profiles p ON p.kind = e.kind AND p.tags = coalesce(e.tags, []::VARCHAR[])
LEFT JOIN accepted a ON a.cycle_id = e.cycle_id AND a.unit_code = e.code
LEFT JOIN submissions c ON c.sk = a.counted_sk
WHERE list_contains(getvariable('rollup_cycles'), e.cycle_id);

CREATE OR REPLACE TEMP TABLE rollup_groups AS SELECT DISTINCT grp, cycle_id, block FROM rollup_st;

-- (profile, kind, indicator) triples: which units must report what.
CREATE OR REPLACE TEMP MACRO rollup_applies() AS TABLE SELECT * FROM rollup_applies_t;

-- The counted values (every measure: 'value', or 'target_YYYY' in a plan cycle) count only
-- for indicators that apply to the unit (its kind, and its tags for tagged indicators).  They are never materialised whole
-- (millions of rows): joined on the integer sk, they stream into small aggregates.

-- Per cycle, unit kind, measure and indicator: units reporting, sum, units answering 1.
-- Grouped by profile first: filtering a few hundred groups beats a semi-join of every
-- value; then summed per kind over the profiles the indicator applies to.
-- Kept per kind: populations differ between kinds (staff, members, residents), so the
-- report shows totals per kind (rollup_indicator_totals_by_kind).
CREATE OR REPLACE TEMP TABLE rollup_agg_kind AS
WITH per_kind AS (
    SELECT s.ck, v.measure, v.indicator_code, count(*) AS n_units,
           sum(v.value) AS total_sum, count(*) FILTER (WHERE v.value = 1) AS n_true
    FROM rollup_st s JOIN submission_values v ON v.sk = s.sk
    WHERE v.value IS NOT NULL
    GROUP BY ALL
)
SELECT c.cycle_id, c.kind, k.measure, k.indicator_code, sum(k.n_units)::BIGINT AS n_units,
       sum(k.total_sum) AS total_sum, sum(k.n_true)::BIGINT AS n_true
FROM per_kind k JOIN (SELECT DISTINCT ck, cycle_id, kind, pno FROM rollup_st) c USING (ck)
SEMI JOIN rollup_applies() a USING (indicator_code, pno)
GROUP BY c.cycle_id, c.kind, k.measure, k.indicator_code;

CREATE OR REPLACE TEMP TABLE rollup_agg AS
SELECT cycle_id, measure, indicator_code, sum(n_units)::BIGINT AS n_units,
       sum(total_sum) AS total_sum, sum(n_true)::BIGINT AS n_true
FROM rollup_agg_kind GROUP BY ALL;

-- The few indicators read unit by unit, {weight} (the weight of percents) and the ratio
-- terms, pivoted: one row per (unit, measure), a column per indicator (grouping once per
-- unit measured half the CPU of a long table grouped per unit and ratio).
CREATE OR REPLACE TEMP TABLE rollup_terms AS
SELECT s.rowid AS uid, s.grp, v.measure, {term_columns}
FROM rollup_st s JOIN submission_values v ON v.sk = s.sk
SEMI JOIN rollup_applies() a ON a.indicator_code = v.indicator_code AND a.pno = s.pno
WHERE v.value IS NOT NULL AND v.indicator_code IN ({term_codes})
GROUP BY ALL;

-- Percents: mean weighted by the unit's {weight} of the same measure (per kind, then all).
CREATE OR REPLACE TEMP TABLE rollup_weighted_kind AS
SELECT s.cycle_id, s.kind, v.measure, v.indicator_code, sum(v.value * t.{weight}) AS weighted,
       sum(t.{weight}) AS weight
FROM rollup_st s JOIN submission_values v ON v.sk = s.sk
JOIN indicators i ON i.code = v.indicator_code AND i.type = 'percent'
SEMI JOIN rollup_applies() a ON a.indicator_code = v.indicator_code AND a.pno = s.pno
JOIN rollup_terms t ON t.uid = s.rowid AND t.measure = v.measure
WHERE v.value IS NOT NULL AND t.{weight} IS NOT NULL
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE rollup_weighted AS
SELECT cycle_id, measure, indicator_code, sum(weighted) AS weighted, sum(weight) AS weight
FROM rollup_weighted_kind GROUP BY ALL;

CREATE OR REPLACE TEMP MACRO rollup_status(cycs) AS TABLE
SELECT rowid AS uid, * FROM rollup_st WHERE list_contains(cycs, cycle_id);

-- Indicator totals across units: sum, except percents (mean weighted by the unit's {weight}
-- of the same measure) and bools (count of units answering 1).  NULL when nobody reported.
CREATE OR REPLACE TEMP MACRO rollup_indicator_totals(cycs, measure_name) AS TABLE
WITH per_kind AS (SELECT cycle_id, pno, count(*) AS n FROM rollup_status(cycs) GROUP BY ALL),
expected AS (
    SELECT k.cycle_id, a.indicator_code, sum(k.n)::BIGINT AS expected
    FROM per_kind k JOIN rollup_applies() a ON a.pno = k.pno
    GROUP BY ALL
)
SELECT c.cycle_id, i.code AS indicator_code, i.name_vi, i.unit_vi, i.type, i.aggregate,
       coalesce(e.expected, 0) AS expected, coalesce(a.n_units, 0) AS n_units,
       CASE WHEN a.n_units IS NULL THEN NULL
            WHEN i.type = 'percent' THEN round(w.weighted / nullif(w.weight, 0), 2)
            WHEN i.type = 'bool' THEN a.n_true
            ELSE a.total_sum END AS total
FROM unnest(cycs) AS c(cycle_id) CROSS JOIN indicators i
LEFT JOIN expected e ON e.cycle_id = c.cycle_id AND e.indicator_code = i.code
LEFT JOIN rollup_agg a
       ON a.cycle_id = c.cycle_id AND a.indicator_code = i.code AND a.measure = measure_name
LEFT JOIN rollup_weighted w
       ON w.cycle_id = c.cycle_id AND w.indicator_code = i.code AND w.measure = measure_name;

-- The same per unit kind: one row per (cycle, indicator, kind the indicator applies to).
CREATE OR REPLACE TEMP MACRO rollup_indicator_totals_by_kind(cycs, measure_name) AS TABLE
WITH expected AS (
    SELECT s.cycle_id, s.kind, a.indicator_code, count(*)::BIGINT AS expected
    FROM rollup_status(cycs) s JOIN rollup_applies() a ON a.pno = s.pno
    GROUP BY ALL
)
SELECT e.cycle_id, e.kind, i.code AS indicator_code, i.name_vi, i.unit_vi, i.type, i.grp,
       i.aggregate, e.expected, coalesce(a.n_units, 0) AS n_units,
       CASE WHEN a.n_units IS NULL THEN NULL
            WHEN i.type = 'percent' THEN round(w.weighted / nullif(w.weight, 0), 2)
            WHEN i.type = 'bool' THEN a.n_true
            ELSE a.total_sum END AS total
FROM expected e JOIN indicators i ON i.code = e.indicator_code
LEFT JOIN rollup_agg_kind a
       ON a.cycle_id = e.cycle_id AND a.kind = e.kind AND a.indicator_code = i.code
      AND a.measure = measure_name
LEFT JOIN rollup_weighted_kind w
       ON w.cycle_id = e.cycle_id AND w.kind = e.kind AND w.indicator_code = i.code
      AND w.measure = measure_name;

-- Each unit's derived ratios, one row per unit and for each ratio k its numerator num_k,
-- denominator den_k, pct_k (%) and pr_k, its percentile rank within its block: cume_dist,
-- the share of the block's units with that ratio whose ratio is <= the unit's (0 < pr <= 1).
-- A unit has a ratio when it reports the numerator and a denominator > 0.  A ratio
-- applies to a unit when both its terms apply to the unit's kind (app_k); n_ratios
-- counts those, n_had the ratios the unit has ([scoring] empty_ratio).
CREATE OR REPLACE TEMP TABLE rollup_uw AS
WITH base AS (SELECT t.*, s.kind, p.tags
              FROM rollup_terms t JOIN rollup_st s ON s.rowid = t.uid
              JOIN rollup_profiles p ON p.pno = s.pno
              WHERE t.measure = 'value'),
terms AS (SELECT uid, grp, kind, tags, {ratio_columns} FROM base),
ranked AS (SELECT *, {rank_columns} FROM terms)
SELECT *, {perf_columns} FROM ranked;

-- The same, long: one row per (unit, ratio it has).
CREATE OR REPLACE TEMP VIEW rollup_ur AS {ratio_rows};

CREATE OR REPLACE TEMP MACRO rollup_unit_ratios(cycs) AS TABLE
SELECT s.cycle_id, s.code, s.block, u.uid, d.ratio, u.numerator, u.denominator, u.pct, u.pr
FROM rollup_ur u JOIN rollup_st s ON s.rowid = u.uid JOIN ratio_defs d USING (rno)
WHERE list_contains(cycs, s.cycle_id);

-- Ratios across units: sum(numerator) / sum(denominator) over the units that report the
-- numerator, for the commune and for each block (summed per block first, on integers).
CREATE OR REPLACE TEMP MACRO rollup_ratio_totals(cycs) AS TABLE
WITH per_block AS (
    SELECT grp, rno, count(*) AS n_units, sum(numerator) AS numerator,
           sum(denominator) AS denominator
    FROM rollup_ur GROUP BY ALL
)
SELECT g.cycle_id, CASE WHEN grouping(g.block) = 0 THEN 'block' ELSE 'commune' END AS level,
       coalesce(g.block, '') AS grp, d.ratio, sum(b.n_units)::BIGINT AS n_units,
       sum(b.numerator) AS numerator, sum(b.denominator) AS denominator,
       round(100.0 * sum(b.numerator) / nullif(sum(b.denominator), 0), 2) AS pct
FROM per_block b JOIN rollup_groups g USING (grp) JOIN ratio_defs d USING (rno)
WHERE list_contains(cycs, g.cycle_id)
GROUP BY GROUPING SETS ((g.cycle_id, d.ratio), (g.cycle_id, d.ratio, g.block));

-- Block score (out of w_on_time + w_quality + w_perf): timeliness, data quality (the
-- counted version's warnings; content_only: all but the `late` warning, so lateness
-- counts once, in timeliness) and performance = w_perf x the mean, over the ratios that
-- apply to the unit's kind (an empty one counting 0: empty_zero) or over the ratios it
-- has, of each ratio's part: where the unit registered a target for the ratio's
-- numerator (measure target_measure of plan_cycs, an indicator of target_codes) its
-- achievement, numerator / target capped at `cap` and scaled to 0..1; else its
-- percentile rank in the block.  n_targets: the parts measured against a target.
-- Ranked per block, ties share a rank (1, 2, 2, 4).
CREATE OR REPLACE TEMP MACRO rollup_scores(cycs, w_on_time, w_late, w_missing, w_quality,
                                          w_quality_warn, w_perf, content_only,
                                          empty_zero, plan_cycs, target_measure,
                                          target_codes, cap) AS TABLE
WITH targets AS (
    SELECT s.code, v.indicator_code, v.value AS target
    FROM rollup_status(plan_cycs) s JOIN submission_values v ON v.sk = s.sk
    WHERE v.measure = target_measure AND v.value > 0
      AND list_contains(target_codes, v.indicator_code)
),
parts AS (
    SELECT r.uid, count(t.target) AS n_targets,
           sum(CASE WHEN t.target IS NULL THEN r.pr
                    ELSE least(r.numerator / t.target, cap) / cap END) AS perf_sum
    FROM rollup_unit_ratios(cycs) r JOIN ratio_defs d USING (ratio)
    LEFT JOIN targets t ON t.code = r.code AND t.indicator_code = d.numerator
    GROUP BY r.uid
),
points AS (     -- narrow rows through the window, names joined after
    SELECT u.uid, u.grp,
           -- a kind no ratio is computed over (companies) is not scored: its
           -- performance part would always be 0 and its units would tie
           u.kind IN (SELECT population FROM ratio_defs) AS scored,
           coalesce(CASE WHEN empty_zero THEN p.n_ratios ELSE p.n_had END, 0) AS n_ratios,
           coalesce(q.n_targets, 0) AS n_targets,
           CASE u.status WHEN 'on_time' THEN w_on_time WHEN 'late' THEN w_late
                ELSE w_missing END AS score_time,
           CASE WHEN u.status = 'missing' THEN 0
                WHEN u.n_warnings - CASE WHEN content_only AND u.late THEN 1 ELSE 0 END > 0
                THEN w_quality_warn
                ELSE w_quality END AS score_quality,
           round(coalesce(w_perf * q.perf_sum / nullif(CASE WHEN empty_zero THEN p.n_ratios
                                                          ELSE p.n_had END, 0), 0), 2)
               AS score_performance
    FROM rollup_status(cycs) u LEFT JOIN rollup_uw p USING (uid) LEFT JOIN parts q USING (uid)
),
ranked AS (
    SELECT * EXCLUDE (score_performance, scored),
           CASE WHEN scored THEN score_performance END AS score_performance,
           CASE WHEN scored THEN score_time + score_quality + score_performance END AS score,
           CASE WHEN scored THEN rank() OVER (PARTITION BY grp, scored
                ORDER BY score_time + score_quality + score_performance DESC) END AS rank_in_block
    FROM points
)
SELECT u.* EXCLUDE (late), r.* EXCLUDE (uid, grp) FROM rollup_status(cycs) u
JOIN ranked r USING (uid);

-- Reporting rate and on-time rate (DHIS2 sense: / expected), for each kind, each block
-- and the commune.  The commune's rates leave out the kinds the plan only invites
-- (`[rollup] invited_kinds`, variable invited_kinds): their reports are participation.
CREATE OR REPLACE TEMP MACRO rollup_completeness(cycs) AS TABLE
SELECT cycle_id,
       CASE WHEN grouping(kind) = 0 THEN 'kind' WHEN grouping(block) = 0 THEN 'block'
            ELSE 'commune' END AS level,
       coalesce(kind, block, '') AS grp,
       count(*) AS expected,
       count(*) FILTER (WHERE status <> 'missing') AS submitted,
       count(*) FILTER (WHERE status = 'on_time') AS on_time,
       count(*) FILTER (WHERE status = 'late') AS late,
       count(*) FILTER (WHERE status = 'missing') AS missing,
       round(100.0 * count(*) FILTER (WHERE status <> 'missing') / count(*), 2) AS reporting_rate,
       round(100.0 * count(*) FILTER (WHERE status = 'on_time') / count(*), 2) AS on_time_rate
FROM (SELECT *, list_contains(getvariable('invited_kinds'), kind) AS invited
      FROM rollup_status(cycs))
GROUP BY GROUPING SETS ((cycle_id, invited), (cycle_id, kind), (cycle_id, block))
HAVING grouping(kind) = 0 OR grouping(block) = 0 OR NOT invited;

-- Each unit's accepted annual reports of a phase folded by the indicator's aggregate: the
-- sum of the years for flows, the latest year's level for stocks and rates (never a mean).
CREATE OR REPLACE TEMP MACRO rollup_unit_fold(year_cycs) AS TABLE
SELECT s.code, v.indicator_code, count(*) AS n_years,
       CASE any_value(i.aggregate) WHEN 'sum' THEN sum(v.value)
            ELSE arg_max(v.value, c.year) END AS annual
FROM rollup_status(year_cycs) s JOIN cycles c ON c.id = s.cycle_id
JOIN submission_values v ON v.sk = s.sk
JOIN indicators i ON i.code = v.indicator_code
WHERE v.measure = 'value' AND v.value IS NOT NULL
GROUP BY ALL;

-- Each unit's registered targets (measure `target_YYYY` of the plan cycle) beside what it
-- achieved: its review figure when it sent one, else the fold of its annual reports.
CREATE OR REPLACE TEMP MACRO rollup_unit_achievement(phase_cycs, year_cycs, plan_cycs,
                                                    measure_name) AS TABLE
WITH tg AS (
    SELECT s.code, s.name, s.kind, v.indicator_code, v.value AS target
    FROM rollup_status(plan_cycs) s JOIN submission_values v ON v.sk = s.sk
    WHERE v.measure = measure_name AND v.value IS NOT NULL
),
rv AS (
    SELECT s.code, v.indicator_code, v.value AS review
    FROM rollup_status(phase_cycs) s JOIN submission_values v ON v.sk = s.sk
    WHERE v.measure = 'value' AND v.value IS NOT NULL
)
SELECT t.code, t.name, t.kind, t.indicator_code, coalesce(r.review, f.annual) AS achieved,
       t.target, round(100.0 * coalesce(r.review, f.annual) / nullif(t.target, 0), 2)
           AS achieved_pct
FROM tg t LEFT JOIN rv r USING (code, indicator_code)
LEFT JOIN rollup_unit_fold(year_cycs) f USING (code, indicator_code);

-- Phase review (sơ kết, tổng kết): each unit's own review figures beside what its
-- accepted annual reports of the phase years already say: for flows (aggregate sum) their
-- sum, for stocks and rates the latest year's level.  The review covers more months than
-- the annual reports (to its cut-off), so the checks run one way (docs/reports.md):
-- a flow below the annual sum, or a count of people or households reached (a stock with
-- an `at_most` population: BD02, TX04…) below its latest annual level or above its
-- population (the unit's own review value of it), is flagged.  A rate is never
-- flagged, its change in percentage points is shown; populations (TS01, TX01) and other
-- levels may fall.
CREATE OR REPLACE TEMP MACRO rollup_review_check(phase_cycs, year_cycs) AS TABLE
WITH rv AS (
    SELECT s.code, s.name, s.kind, s.sk, v.indicator_code, v.value
    FROM rollup_status(phase_cycs) s JOIN submission_values v ON v.sk = s.sk
    SEMI JOIN rollup_applies() a ON a.indicator_code = v.indicator_code AND a.pno = s.pno
    WHERE v.measure = 'value' AND v.value IS NOT NULL
),
fold AS (SELECT * FROM rollup_unit_fold(year_cycs)),
checked AS (
    SELECT r.code, r.name, r.kind, r.indicator_code, i.name_vi, i.aggregate, i.type,
           coalesce(f.n_years, 0) AS n_years, r.value AS review, f.annual,
           p.value AS population, i.at_most,
           CASE WHEN i.type = 'percent' THEN 'rate' WHEN i.aggregate = 'sum' THEN 'flow'
                WHEN i.at_most IS NOT NULL THEN 'count' ELSE 'level' END AS rule
    FROM rv r JOIN indicators i ON i.code = r.indicator_code
    LEFT JOIN fold f ON f.code = r.code AND f.indicator_code = r.indicator_code
    LEFT JOIN rv p ON p.sk = r.sk AND p.indicator_code = i.at_most
)
SELECT * EXCLUDE (type),
       CASE WHEN rule = 'rate' THEN round(review - annual, 2) END AS change_pp,
       CASE WHEN rule = 'flow' AND review < annual THEN 'below_annual'
            WHEN rule = 'count' AND review < annual THEN 'decrease'
            WHEN rule = 'count' AND review > population THEN 'above_population'
       END AS finding,
       coalesce(finding IS NOT NULL, false) AS flagged
FROM checked;
