-- Submissions still owed an acknowledgment: none tried yet, or a failed one due again
-- (the rule of `retry_due.sql`).  The recipient is the unit's registered address; a file
-- whose unit is unknown (unreadable, or no unit code) is answered to the registered
-- address of the unit whose address sent it, else to the mail's sender, when it came by
-- mail.
WITH by_address AS (        -- one unit per registered address (the first by code)
    SELECT lower(email) AS address, code, name, email
    FROM units
    QUALIFY row_number() OVER (PARTITION BY lower(email) ORDER BY code) = 1
)
SELECT s.submission_id, s.unit_code, s.cycle_id, s.version, s.outcome, s.late,
       s.n_errors, s.n_warnings, s.received_at, s.file_format,
       f.original_name, f.sender, f.source, f.message_id, f.subject,
       coalesce(u.name, b.name) AS unit_name, coalesce(u.email, b.email) AS unit_email,
       -- documents (the plan) received with this version or an earlier one of the unit
       coalesce((SELECT list(DISTINCT a.name ORDER BY a.name)
                 FROM attachments a JOIN submissions o USING (submission_id)
                 WHERE a.role = 'document' AND (o.submission_id = s.submission_id
                       OR (o.unit_code = s.unit_code AND o.cycle_id = s.cycle_id
                           AND o.version <= s.version))), []) AS documents
FROM submissions s
JOIN files f ON f.sha256 = s.submission_id
LEFT JOIN units u ON u.code = s.unit_code
LEFT JOIN by_address b ON s.unit_code IS NULL AND b.address = lower(f.sender)
LEFT JOIN acknowledgments mail USING (submission_id)
WHERE (mail.submission_id IS NULL OR {retry_due})
  AND ($ids IS NULL OR list_contains($ids, s.submission_id))
ORDER BY s.received_at, s.submission_id
