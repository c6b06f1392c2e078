-- Submissions still owed an acknowledgment: none sent yet.  A failed one is tried
-- again on each run for its first $immediate_attempts attempts (1½ hours of the
-- 15-minute schedule), then with a backoff (1, 2, 4 … hours since the last attempt, at
-- most a day): never given up.  The recipient is the unit's registered address; a file whose unit is
-- unknown is answered to the mail's sender, when it came by mail.
SELECT s.submission_id, s.unit_code, s.cycle_id, s.version, s.outcome, s.late,
       s.n_errors, s.n_warnings, s.received_at, s.file_format,
       f.original_name, f.sender, f.source, f.message_id, f.subject, u.name AS unit_name, u.email AS unit_email
FROM submissions s
JOIN files f ON f.sha256 = s.submission_id
LEFT JOIN units u ON u.code = s.unit_code
LEFT JOIN acknowledgments a USING (submission_id)
WHERE (a.submission_id IS NULL OR (a.status = 'failed' AND (
        a.attempts < $immediate_attempts OR a.last_attempt_at IS NULL
        OR a.last_attempt_at <= now() - to_hours(
            least(24, 2 ** (a.attempts - $immediate_attempts))::BIGINT))))
  AND ($ids IS NULL OR list_contains($ids, s.submission_id))
ORDER BY s.received_at, s.submission_id
