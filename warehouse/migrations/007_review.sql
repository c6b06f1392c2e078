-- Web upload page and review (issue 15).
-- Each unit's upload link for a cycle: the signed token names a row here, which holds
-- its expiry and its revocation (`thidua link UNIT CYCLE --revoke`).
CREATE TABLE upload_links (
    id          VARCHAR PRIMARY KEY,
    unit_code   VARCHAR NOT NULL,
    cycle_id    VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);

-- Review states of each submission version, append-only: one row per change, never
-- updated.  States: received | has_issues (automatic, at the load), approved | returned |
-- rejected (the officer's, with a comment for returned and rejected).
CREATE SEQUENCE review_seq;
CREATE TABLE review_log (
    seq           BIGINT PRIMARY KEY DEFAULT nextval('review_seq'),
    submission_id VARCHAR NOT NULL,
    unit_code     VARCHAR NOT NULL,
    cycle_id      VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    from_state    VARCHAR,
    to_state      VARCHAR NOT NULL,
    actor         VARCHAR NOT NULL,          -- 'system' for the automatic states
    comment       VARCHAR,
    decided_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The submissions loaded before this migration get their automatic state.
INSERT INTO review_log (submission_id, unit_code, cycle_id, version, to_state, actor, decided_at)
SELECT submission_id, unit_code, cycle_id, version,
       CASE WHEN outcome IN ('rejected', 'unreadable') THEN 'has_issues' ELSE 'received' END,
       'system', loaded_at
FROM submissions WHERE unit_code IS NOT NULL AND cycle_id IS NOT NULL AND version IS NOT NULL
ORDER BY loaded_at, version;

-- The review state of each version: its latest row.
CREATE VIEW review_states AS
    SELECT * FROM review_log
    QUALIFY row_number() OVER (PARTITION BY submission_id ORDER BY seq DESC) = 1;

-- Accepted versions that the officer approved ([web] rollup_counts = "approved").
CREATE VIEW approved_submissions AS
    SELECT s.* FROM submissions s
    JOIN review_states r USING (submission_id)
    WHERE r.to_state = 'approved';
