-- A resend's answer that keeps failing is named to the admin once, as an acknowledgment
-- or a reminder is (`queries.failing_mail`, `writer.mark_alerted`).
ALTER TABLE resend_notices ADD COLUMN alerted_at TIMESTAMPTZ;
