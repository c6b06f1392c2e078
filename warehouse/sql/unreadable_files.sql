-- Files that could not be opened, for the officer: who sent them (the unit whose
-- registered address sent the mail, when one did), why, and whether the sender was told.
WITH by_address AS (
    SELECT lower(email) AS address, code
    FROM units
    QUALIFY row_number() OVER (PARTITION BY lower(email) ORDER BY code) = 1
)
SELECT f.original_name AS file, f.sender, b.code AS unit, s.received_at,
       coalesce(r.message_vi, 'Không mở được tệp.') AS reason, a.status AS ack,
       s.submission_id
FROM submissions s
JOIN files f ON f.sha256 = s.submission_id
LEFT JOIN by_address b ON b.address = lower(f.sender)
LEFT JOIN (SELECT submission_id, arg_min(message_vi, rule_id <> 'unreadable') AS message_vi
           FROM validation_results WHERE severity = 'error' GROUP BY ALL) r
       ON r.submission_id = s.submission_id
LEFT JOIN acknowledgments a ON a.submission_id = s.submission_id
WHERE s.outcome = 'unreadable'
ORDER BY s.received_at, f.original_name
