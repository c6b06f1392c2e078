-- Every expected unit of each cycle that has a due stage today ($due_stages: one row per
-- cycle), with why it is skipped: the sent log holds this stage or a later one, or
-- (a bounced one counts as sent: the address fails, the officer is told) or
-- (from stage $chase_from on) the unit has an accepted submission.  NULL skip: send.
-- `template_sent`: the unit already received a reminder of this cycle, so its template
-- (the first reminder a unit gets carries it, whatever the stage).
WITH sent AS (
    SELECT DISTINCT r.unit_code, r.cycle_id
    FROM reminders r JOIN due_stages s ON s.cycle_id = r.cycle_id
    WHERE r.status IN ('sent', 'bounced') AND list_position($stages, r.stage) - 1 >= s.stage_no
),
received AS (          -- units that already got some reminder of the cycle
    SELECT DISTINCT r.unit_code, r.cycle_id
    FROM reminders r JOIN due_stages s ON s.cycle_id = r.cycle_id
    WHERE r.status = 'sent'
),
previous AS (          -- the attempt already logged for this very stage, if any
    SELECT r.unit_code, r.cycle_id, r.status, r.attempts, r.error
    FROM reminders r JOIN due_stages s ON s.cycle_id = r.cycle_id AND s.stage = r.stage
)
SELECT e.code AS unit_code, e.name AS unit_name, e.kind, e.block, e.email,
       e.head_title, e.head_email,
       s.cycle_id, s.stage, s.stage_date, s.due_date,
       CASE WHEN sent.unit_code IS NOT NULL THEN 'already_sent'
            WHEN s.stage_no >= $chase_from AND cs.unit_code IS NOT NULL THEN 'submitted'
       END AS skip,
       coalesce(p.attempts, 0) AS attempts, p.error AS last_error,
       rc.unit_code IS NOT NULL AS template_sent
FROM due_stages s
JOIN expected_units e ON e.cycle_id = s.cycle_id
LEFT JOIN sent ON sent.unit_code = e.code AND sent.cycle_id = s.cycle_id
LEFT JOIN current_submissions cs ON cs.unit_code = e.code AND cs.cycle_id = s.cycle_id
LEFT JOIN previous p ON p.unit_code = e.code AND p.cycle_id = s.cycle_id
LEFT JOIN received rc ON rc.unit_code = e.code AND rc.cycle_id = s.cycle_id
ORDER BY s.cycle_id, e.code
