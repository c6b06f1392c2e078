-- Rollup building blocks: temporary table macros over the warehouse, created on each
-- connection that rolls up (read-only is fine).  Every macro takes `cycs`, a list of cycle
-- ids, so one query serves an annual rollup (one cycle) and a phase (its years at once).
-- Needs `ratio_defs(ratio, numerator, denominator)` registered on the connection.

-- One row per (cycle, expected unit).  status: on_time when some accepted version
-- arrived on time, late when accepted versions exist but all came late, else missing.
-- The values come from the version that counts (current_submissions: latest accepted).
CREATE OR REPLACE TEMP MACRO rollup_status(cycs) AS TABLE
WITH accepted AS (
    SELECT cycle_id, unit_code, bool_or(NOT late) AS any_on_time
    FROM submissions
    WHERE list_contains(cycs, cycle_id) AND outcome IN ('accepted', 'accepted_with_warnings')
    GROUP BY ALL
)
SELECT e.cycle_id, e.code, e.name, e.kind, e.block,
       CASE WHEN a.unit_code IS NULL THEN 'missing'
            WHEN a.any_on_time THEN 'on_time' ELSE 'late' END AS status,
       c.submission_id, c.version, c.received_at, c.outcome, c.n_warnings
FROM expected_units e
LEFT JOIN accepted a ON a.cycle_id = e.cycle_id AND a.unit_code = e.code
LEFT JOIN current_submissions c ON c.cycle_id = e.cycle_id AND c.unit_code = e.code
WHERE list_contains(cycs, e.cycle_id);

-- The counted values of one measure ('value', or 'target_YYYY' in a plan cycle), only for
-- indicators that apply to the unit's kind.
CREATE OR REPLACE TEMP MACRO rollup_values(cycs, measure_name) AS TABLE
SELECT s.cycle_id, s.code, s.kind, s.block, v.indicator_code, v.value
FROM rollup_status(cycs) s
JOIN submission_values v ON v.submission_id = s.submission_id
JOIN indicators i ON i.code = v.indicator_code AND list_contains(i.kinds, s.kind)
WHERE v.measure = measure_name AND v.value IS NOT NULL;

-- Indicator totals across units: sum, except percents (mean weighted by the unit's TS01
-- of the same measure) and bools (count of units answering 1).  NULL when nobody reported.
CREATE OR REPLACE TEMP MACRO rollup_indicator_totals(cycs, measure_name) AS TABLE
WITH v AS (SELECT * FROM rollup_values(cycs, measure_name)),
w AS (
    SELECT v.*, t.value AS ts01 FROM v
    LEFT JOIN v t ON t.cycle_id = v.cycle_id AND t.code = v.code AND t.indicator_code = 'TS01'
),
agg AS (
    SELECT cycle_id, indicator_code, count(*) AS n_units, sum(value) AS total_sum,
           count(*) FILTER (WHERE value = 1) AS n_true,
           sum(value * ts01) AS weighted, sum(ts01) AS weight
    FROM w GROUP BY ALL
),
expected AS (
    SELECT s.cycle_id, i.code AS indicator_code, count(*) AS expected
    FROM rollup_status(cycs) s JOIN indicators i ON list_contains(i.kinds, s.kind)
    GROUP BY ALL
)
SELECT c.cycle_id, i.code AS indicator_code, i.name_vi, i.unit_vi, i.type, i.aggregate,
       coalesce(e.expected, 0) AS expected, coalesce(a.n_units, 0) AS n_units,
       CASE WHEN a.n_units IS NULL THEN NULL
            WHEN i.type = 'percent' THEN round(a.weighted / nullif(a.weight, 0), 2)
            WHEN i.type = 'bool' THEN a.n_true
            ELSE a.total_sum END AS total
FROM unnest(cycs) AS c(cycle_id) CROSS JOIN indicators i
LEFT JOIN expected e ON e.cycle_id = c.cycle_id AND e.indicator_code = i.code
LEFT JOIN agg a ON a.cycle_id = c.cycle_id AND a.indicator_code = i.code;

-- Each unit's derived ratios (%), and its percentile rank within its block: cume_dist,
-- the share of the block's units with that ratio whose ratio is <= the unit's (0 < pr <= 1).
-- A unit has a ratio when it reports the numerator and a denominator > 0.
CREATE OR REPLACE TEMP MACRO rollup_unit_ratios(cycs) AS TABLE
WITH v AS (SELECT * FROM rollup_values(cycs, 'value')),
r AS (
    SELECT n.cycle_id, n.code, n.block, d.ratio, n.value AS numerator, den.value AS denominator,
           100.0 * n.value / den.value AS pct
    FROM ratio_defs d
    JOIN v n ON n.indicator_code = d.numerator
    JOIN v den ON den.cycle_id = n.cycle_id AND den.code = n.code
              AND den.indicator_code = d.denominator AND den.value > 0
)
SELECT *, cume_dist() OVER (PARTITION BY cycle_id, block, ratio ORDER BY pct) AS pr
FROM r;

-- Ratios across units: sum(numerator) / sum(denominator) over the units that report the
-- numerator, for the commune and for each block.
CREATE OR REPLACE TEMP MACRO rollup_ratio_totals(cycs) AS TABLE
SELECT cycle_id, CASE WHEN grouping(block) = 0 THEN 'block' ELSE 'commune' END AS level,
       coalesce(block, '') AS grp, ratio, count(*) AS n_units,
       sum(numerator) AS numerator, sum(denominator) AS denominator,
       round(100.0 * sum(numerator) / nullif(sum(denominator), 0), 2) AS pct
FROM rollup_unit_ratios(cycs)
GROUP BY GROUPING SETS ((cycle_id, ratio), (cycle_id, ratio, block));

-- Block score (out of w_on_time + w_quality + w_perf): timeliness, data quality (the
-- counted version's warnings) and performance = w_perf x mean percentile rank over the
-- unit's ratios (0 without any).  Ranked per block, ties share a rank (1, 2, 2, 4).
CREATE OR REPLACE TEMP MACRO rollup_scores(cycs, w_on_time, w_late, w_missing, w_quality,
                                          w_quality_warn, w_perf) AS TABLE
WITH perf AS (
    SELECT cycle_id, code, count(*) AS n_ratios, avg(pr) AS perf_rank
    FROM rollup_unit_ratios(cycs) GROUP BY ALL
),
s AS (
    SELECT u.*, coalesce(p.n_ratios, 0) AS n_ratios,
           CASE u.status WHEN 'on_time' THEN w_on_time WHEN 'late' THEN w_late
                ELSE w_missing END AS score_time,
           CASE WHEN u.status = 'missing' THEN 0 WHEN u.n_warnings > 0 THEN w_quality_warn
                ELSE w_quality END AS score_quality,
           round(coalesce(w_perf * p.perf_rank, 0), 2) AS score_performance
    FROM rollup_status(cycs) u LEFT JOIN perf p USING (cycle_id, code)
)
SELECT *, score_time + score_quality + score_performance AS score,
       rank() OVER (PARTITION BY cycle_id, block
                    ORDER BY score_time + score_quality + score_performance DESC) AS rank_in_block
FROM s;

-- Reporting rate and on-time rate (DHIS2 sense: / expected), for the commune, each kind
-- and each block.
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
FROM rollup_status(cycs)
GROUP BY GROUPING SETS ((cycle_id), (cycle_id, kind), (cycle_id, block));

-- Indicator totals per year folded over a phase by each indicator's `aggregate`:
-- sum of the yearly totals, their mean, or the latest year's (last).
CREATE OR REPLACE TEMP MACRO rollup_cumulative(cycs) AS TABLE
SELECT t.indicator_code, any_value(t.aggregate) AS aggregate, count(*) AS n_years,
       CASE any_value(t.aggregate) WHEN 'sum' THEN sum(t.total)
            WHEN 'mean' THEN round(avg(t.total), 2)
            ELSE arg_max(t.total, c.year) END AS cumulative
FROM rollup_indicator_totals(cycs, 'value') t JOIN cycles c ON c.id = t.cycle_id
WHERE t.total IS NOT NULL
GROUP BY t.indicator_code;
