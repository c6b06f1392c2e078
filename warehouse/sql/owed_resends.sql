-- Resends of accepted files owed an answer ("đã nhận trước đó"): logged `owed` and not
-- tried yet, or failed and due again (the acknowledgments' rule, `retry_due.sql`), with
-- what the answer says: the resent file's name and arrival, the accepted submission's
-- unit and arrival.
SELECT mail.resend_id, mail.submission_id, f.original_name AS name,
       f.received_at AS resent_at, s.unit_code, s.received_at
FROM resend_notices mail
JOIN files f ON f.sha256 = mail.resend_id
JOIN submissions s ON s.submission_id = mail.submission_id
WHERE mail.status = 'owed' OR {retry_due}
ORDER BY f.received_at, mail.resend_id
