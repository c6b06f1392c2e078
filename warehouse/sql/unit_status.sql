-- One row per unit a cycle expects: its latest submission (any outcome) and the
-- version that counts (latest accepted), the review state of the latest version, and
-- the latest document (docx/pdf: the unit's plan, in the plan cycle) that came with any
-- of its versions.  Units that sent nothing show `missing` (review NULL).
WITH latest AS (
    SELECT * FROM submissions
    WHERE cycle_id = $cycle AND unit_code IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY unit_code ORDER BY version DESC) = 1
), documents AS (
    SELECT o.unit_code, arg_max(a.name, o.version) AS plan_document
    FROM attachments a JOIN submissions o USING (submission_id)
    WHERE o.cycle_id = $cycle AND o.unit_code IS NOT NULL AND a.role = 'document'
    GROUP BY ALL
)
SELECT e.code AS unit, e.name, e.kind, e.block,
       l.version, coalesce(l.outcome, 'missing') AS outcome, l.late,
       l.n_errors AS errors, l.n_warnings AS warnings, l.received_at,
       c.version AS counted_version, r.to_state AS review, d.plan_document
FROM expected_units e
LEFT JOIN latest l ON l.unit_code = e.code
LEFT JOIN review_states r ON r.submission_id = l.submission_id
LEFT JOIN current_submissions c ON c.unit_code = e.code AND c.cycle_id = $cycle
LEFT JOIN documents d ON d.unit_code = e.code
WHERE e.cycle_id = $cycle
ORDER BY e.code
