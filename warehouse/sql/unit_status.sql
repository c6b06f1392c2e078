-- One row per unit a cycle expects: its latest submission (any outcome) and the
-- version that counts (latest accepted), and the review state of the latest version.
-- Units that sent nothing show `missing` (review NULL).
WITH latest AS (
    SELECT * FROM submissions
    WHERE cycle_id = $cycle AND unit_code IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY unit_code ORDER BY version DESC) = 1
)
SELECT e.code AS unit, e.name, e.kind, e.block,
       l.version, coalesce(l.outcome, 'missing') AS outcome, l.late,
       l.n_errors AS errors, l.n_warnings AS warnings, l.received_at,
       c.version AS counted_version, r.to_state AS review
FROM expected_units e
LEFT JOIN latest l ON l.unit_code = e.code
LEFT JOIN review_states r ON r.submission_id = l.submission_id
LEFT JOIN current_submissions c ON c.unit_code = e.code AND c.cycle_id = $cycle
WHERE e.cycle_id = $cycle
ORDER BY e.code
