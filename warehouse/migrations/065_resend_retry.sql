-- A resend notice whose send failed is owed again (issue 24), as an acknowledgment is:
-- each attempt counted and when it was last tried, for the same backoff
-- (`warehouse/sql/retry_due.sql`).  Notices logged before this were one attempt each.
ALTER TABLE resend_notices ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE resend_notices ADD COLUMN last_attempt_at TIMESTAMPTZ;
