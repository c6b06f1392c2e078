-- A resend's answer is logged as an acknowledgment is (issue 24): `owed` once the
-- resend is known (before any attempt, so a run that dies leaves it owed), then each
-- attempt counted and when it was last tried; a failed one is owed again by the same
-- rule (`warehouse/sql/retry_due.sql`).  Status: owed | sent | failed | skipped.
-- Notices logged before this were one attempt each.
ALTER TABLE resend_notices ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE resend_notices ADD COLUMN last_attempt_at TIMESTAMPTZ;
