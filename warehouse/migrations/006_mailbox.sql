-- The commune's mailbox (issue 14).  Every message fetched over IMAP, by (mailbox,
-- UIDVALIDITY, UID), so each is taken exactly once; when a folder's UIDVALIDITY changes
-- (a recreated folder), a message whose sha256 or Message-ID was already taken from the
-- mailbox is recorded as a repeat and not taken again.
CREATE TABLE mail_messages (
    mailbox      VARCHAR NOT NULL,         -- user@host/folder
    uidvalidity  BIGINT NOT NULL,
    uid          BIGINT NOT NULL,
    sha256       VARCHAR NOT NULL,         -- of the raw message: archive/<sha256>, files
    message_id   VARCHAR,
    subject      VARCHAR,
    sender       VARCHAR,                  -- From address, lower-cased
    size_bytes   BIGINT NOT NULL,
    kind         VARCHAR NOT NULL,         -- mail | dsn | auto | repeat | too_large
    fetched_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    folder       VARCHAR,                  -- where it was moved; NULL until then
    verdict      VARCHAR,                  -- processed | quarantined
    reason       VARCHAR,                  -- why quarantined
    moved_at     TIMESTAMPTZ,
    PRIMARY KEY (mailbox, uidvalidity, uid)
);

-- Files of a mail are linked to its submission: the workbook and a plan document
-- (docx, pdf) sent with it.
CREATE TABLE attachments (
    submission_id VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,         -- files.sha256, archive/<sha256>
    name          VARCHAR NOT NULL,
    size_bytes    BIGINT NOT NULL,
    role          VARCHAR NOT NULL,         -- workbook | document
    PRIMARY KEY (submission_id, sha256)
);

-- A mailed file keeps the Message-ID and subject of its mail, so the acknowledgment is a
-- reply in the unit's thread; and which mail (sha256 of the raw message) it came in.
ALTER TABLE files ADD COLUMN message_id VARCHAR;
ALTER TABLE files ADD COLUMN subject VARCHAR;
ALTER TABLE files ADD COLUMN message_sha256 VARCHAR;

-- Delivery status notifications (RFC 3464) matched to the reminder or acknowledgment
-- they answer; that row's status becomes `bounced`.
CREATE TABLE bounces (
    dsn_sha256    VARCHAR NOT NULL,        -- the DSN, archive/<sha256>
    message_id    VARCHAR NOT NULL,        -- of our message that bounced
    answers       VARCHAR,                 -- reminder | acknowledgment | NULL (unmatched)
    unit_code     VARCHAR,
    cycle_id      VARCHAR,
    stage         VARCHAR,                 -- of a reminder
    recipient     VARCHAR,                 -- the address that fails
    status        VARCHAR,                 -- 5.1.1 ...
    diagnostic    VARCHAR,
    received_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (dsn_sha256, message_id, recipient)
);
