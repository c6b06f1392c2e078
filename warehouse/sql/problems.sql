-- The problems of a unit's latest submission for a cycle (or of a given version), with
-- the indicator of the cell when the problem sits on a value (same submission and cell).
WITH sub AS (
    SELECT * FROM submissions
    WHERE unit_code = $unit AND cycle_id = $cycle
      AND ($version IS NULL OR version = $version)
    QUALIFY row_number() OVER (ORDER BY version DESC) = 1
),
cells AS (
    SELECT DISTINCT v.cell, v.indicator_code
    FROM sub s JOIN submission_values v USING (submission_id)
)
SELECT s.version, s.outcome, r.severity, r.sheet, r.cell, r.value, r.rule_id,
       r.message_vi, r.fix_vi, c.indicator_code AS indicator, i.name_vi AS indicator_name
FROM sub s JOIN validation_results r USING (submission_id)
LEFT JOIN cells c ON c.cell = r.cell
LEFT JOIN indicators i ON i.code = c.indicator_code
ORDER BY r.severity, r.sheet NULLS FIRST, length(r.cell), r.cell, r.rule_id
