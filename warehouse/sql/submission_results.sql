-- Every problem of the given submissions, errors first, in sheet and cell order.
SELECT submission_id, rule_id, severity, sheet, cell, value, message_vi, fix_vi
FROM validation_results
WHERE list_contains($ids, submission_id)
ORDER BY submission_id, severity, sheet NULLS FIRST, length(cell), cell, rule_id
