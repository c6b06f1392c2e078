-- Resends (issue 23): a submission is its file and its envelope.  A file refused for its
-- envelope (sender, cycle not open) or already accepted, when it comes again under
-- another envelope, gets an id of its own (`pipeline.collect.take_in`): its files row is
-- keyed by that id and names the bytes' sha256 here.
ALTER TABLE files ADD COLUMN content_sha256 VARCHAR;

-- The one answer to a resend of an accepted file ("đã nhận trước đó"), by the resend's id.
CREATE TABLE resend_notices (
    resend_id     VARCHAR PRIMARY KEY,
    submission_id VARCHAR NOT NULL,        -- the accepted submission it repeats
    status        VARCHAR NOT NULL,        -- sent | failed | skipped
    sent_at       TIMESTAMPTZ,
    message_id    VARCHAR,
    recipients    VARCHAR,
    error         VARCHAR
);
