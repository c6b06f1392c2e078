-- Resends of accepted files whose answer ("đã nhận trước đó") failed and is due again
-- (the rule of `retry_due.sql`, as for acknowledgments), with what the answer says: the
-- resent file's name and arrival, the accepted submission's unit and arrival.
SELECT mail.resend_id, mail.submission_id, f.original_name AS name,
       f.received_at AS resent_at, s.unit_code, s.received_at
FROM resend_notices mail
JOIN files f ON f.sha256 = mail.resend_id
JOIN submissions s ON s.submission_id = mail.submission_id
WHERE {retry_due}
ORDER BY f.received_at, mail.resend_id
