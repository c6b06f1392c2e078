-- Mail that failed is retried on later runs, never dropped (issue 16): when each
-- acknowledgment was last tried, for the backoff, and when the admin was alerted about
-- a message that keeps failing.
ALTER TABLE acknowledgments ADD COLUMN last_attempt_at TIMESTAMPTZ;
ALTER TABLE acknowledgments ADD COLUMN alerted_at TIMESTAMPTZ;
ALTER TABLE reminders ADD COLUMN alerted_at TIMESTAMPTZ;
