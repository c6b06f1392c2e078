-- The one rule of when a mail whose send failed is tried again (acknowledgments, resend
-- notices), over its log row `mail`: on each run for its first $immediate_attempts
-- attempts (1½ hours of the 15-minute schedule), then with a backoff (1, 2, 4 … hours
-- since the last attempt, at most a day): never given up.  Only a `failed` one: a sent
-- one (an outbox .eml counts as sent) or a skipped one (nobody to answer) is done.
(mail.status = 'failed' AND (
    mail.attempts < $immediate_attempts OR mail.last_attempt_at IS NULL
    OR mail.last_attempt_at <= now() - to_hours(
        least(24, 2 ** (mail.attempts - $immediate_attempts))::BIGINT)))
