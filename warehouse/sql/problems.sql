-- The problems of a unit's latest submission for a cycle (or of a given version).
WITH sub AS (
    SELECT * FROM submissions
    WHERE unit_code = $unit AND cycle_id = $cycle
      AND ($version IS NULL OR version = $version)
    QUALIFY row_number() OVER (ORDER BY version DESC) = 1
)
SELECT s.version, s.outcome, r.severity, r.sheet, r.cell, r.value, r.rule_id,
       r.message_vi, r.fix_vi
FROM sub s JOIN validation_results r USING (submission_id)
ORDER BY r.severity, r.sheet NULLS FIRST, length(r.cell), r.cell, r.rule_id
