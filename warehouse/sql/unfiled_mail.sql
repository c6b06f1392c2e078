-- Messages of $mailbox not yet moved to a folder, with what their take-in found.  A mail's
-- files carry its sha256 (`message_sha256`); a mail without a workbook is its own
-- (unreadable) submission.
WITH unfiled AS (
    SELECT * FROM mail_messages WHERE mailbox = $mailbox AND folder IS NULL
),
subs AS (
    SELECT coalesce(f.message_sha256, f.sha256) AS mail_sha, s.submission_id, s.outcome,
           s.unit_code
    FROM files f JOIN submissions s ON s.submission_id = f.sha256
    WHERE coalesce(f.message_sha256, f.sha256) IN (SELECT sha256 FROM unfiled)
),
sender_rules AS (
    SELECT submission_id, string_agg(DISTINCT rule_id, ',') AS rules
    FROM validation_results
    WHERE rule_id IN ('sender_mismatch', 'sender_unauthenticated')
      AND submission_id IN (SELECT submission_id FROM subs)
    GROUP BY ALL
)
SELECT m.uidvalidity, m.uid, m.kind, m.sha256, m.sender, m.subject, m.message_id,
       m.sha256 IN (SELECT sha256 FROM files) AS taken,
       count(s.submission_id) AS submissions,
       coalesce(bool_and(s.outcome = 'unreadable'), false) AS all_unreadable,
       string_agg(DISTINCT r.rules, ',') AS sender_rules,
       string_agg(DISTINCT s.unit_code, ',') AS units
FROM unfiled m
LEFT JOIN subs s ON s.mail_sha = m.sha256
LEFT JOIN sender_rules r ON r.submission_id = s.submission_id
GROUP BY ALL
ORDER BY m.uidvalidity, m.uid
