-- thidua warehouse, version 1.  Every table of the reporting cycle; later migrations
-- only add.  DuckDB file: $THIDUA_HOME/warehouse.duckdb.  Writes: warehouse.writer only.

-- Registry, versioned: a new row whenever a unit's registry entry changes.
CREATE TABLE unit_versions (
    code        VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    name        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    block       VARCHAR NOT NULL,
    email       VARCHAR NOT NULL,
    head_title  VARCHAR NOT NULL,
    head_email  VARCHAR NOT NULL,
    valid_from  DATE,
    valid_to    DATE,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    retired_at  TIMESTAMPTZ,             -- set when config no longer carries this version
    PRIMARY KEY (code, version)
);
-- The registry as config has it now.
CREATE VIEW units AS
    SELECT * EXCLUDE (retired_at) FROM unit_versions WHERE retired_at IS NULL;

CREATE TABLE indicators (
    code            VARCHAR PRIMARY KEY,
    name_vi         VARCHAR NOT NULL,
    unit_vi         VARCHAR NOT NULL,
    kinds           VARCHAR[] NOT NULL,
    type            VARCHAR NOT NULL,
    grp             VARCHAR NOT NULL,
    aggregate       VARCHAR NOT NULL,
    min_value       DOUBLE,
    max_value       DOUBLE,
    at_most         VARCHAR,
    warn_at_most    VARCHAR,
    warn_yoy_factor DOUBLE
);

CREATE TABLE cycles (
    id            VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,        -- ke_hoach | nam | so_ket | tong_ket
    title         VARCHAR NOT NULL,
    year          INTEGER,
    phase         INTEGER,
    period_start  DATE,
    period_end    DATE,
    due_original  DATE NOT NULL,
    due_date      DATE NOT NULL,           -- moved to a working day
    reward_forms  VARCHAR[] NOT NULL
);

-- Sent log of reminders: one row per (unit, cycle, stage), ever.
CREATE TABLE reminders (
    unit_code   VARCHAR NOT NULL,
    cycle_id    VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,          -- mo | t7 | t3 | t1 | qua-han | don-doc
    due_date    DATE NOT NULL,
    stage_date  DATE NOT NULL,
    status      VARCHAR NOT NULL,          -- sent | failed
    attempts    INTEGER NOT NULL DEFAULT 1,
    sent_at     TIMESTAMPTZ,
    message_id  VARCHAR,
    recipients  VARCHAR,
    error       VARCHAR,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_code, cycle_id, stage)
);

-- Every file that ever arrived, archived raw under archive/<sha256> before parsing.
CREATE TABLE files (
    sha256        VARCHAR PRIMARY KEY,
    original_name VARCHAR NOT NULL,
    size_bytes    BIGINT NOT NULL,
    source        VARCHAR NOT NULL,        -- inbox | eml | mailbox
    sender        VARCHAR,                 -- From address when it came by email
    received_at   TIMESTAMPTZ NOT NULL,
    archived_path VARCHAR NOT NULL
);

-- One row per submitted workbook or CSV; a new file for (unit, cycle) is a new version.
CREATE TABLE submissions (
    submission_id VARCHAR PRIMARY KEY,     -- sha256 of the submitted file
    unit_code     VARCHAR,                 -- NULL when unreadable or the code is unknown
    cycle_id      VARCHAR,
    version       INTEGER,
    received_at   TIMESTAMPTZ NOT NULL,
    outcome       VARCHAR NOT NULL,        -- accepted | accepted_with_warnings | rejected | unreadable
    late          BOOLEAN NOT NULL DEFAULT false,
    n_errors      INTEGER NOT NULL DEFAULT 0,
    n_warnings    INTEGER NOT NULL DEFAULT 0,
    file_format   VARCHAR NOT NULL,        -- xlsx | csv
    batch_id      VARCHAR NOT NULL,
    loaded_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- ThongTin sheet (key → value) of each submission.
CREATE TABLE submission_info (
    submission_id VARCHAR NOT NULL,
    key           VARCHAR NOT NULL,
    value         VARCHAR,
    cell          VARCHAR,
    PRIMARY KEY (submission_id, key)
);

-- ChiTieu values, long form.  measure: value (annual/review) or target_YYYY (plan).
CREATE TABLE submission_values (
    submission_id  VARCHAR NOT NULL,
    indicator_code VARCHAR NOT NULL,
    measure        VARCHAR NOT NULL,
    value          DOUBLE,
    raw            VARCHAR,                -- the cell as typed, when it was text
    note           VARCHAR,
    cell           VARCHAR                 -- e.g. ChiTieu!D7
);

-- SangKien rows.
CREATE TABLE initiatives (
    submission_id VARCHAR NOT NULL,
    row_no        INTEGER NOT NULL,
    title         VARCHAR,
    author        VARCHAR,
    field         VARCHAR,
    applied_on    VARCHAR,
    effect        VARCHAR,
    recognition   VARCHAR,
    cell          VARCHAR
);

-- DeNghiKhenThuong rows.
CREATE TABLE proposals (
    submission_id VARCHAR NOT NULL,
    row_no        INTEGER NOT NULL,
    subject_type  VARCHAR,                 -- Tập thể | Cá nhân
    name          VARCHAR,
    position      VARCHAR,
    reward_form   VARCHAR,
    summary       VARCHAR,
    cell          VARCHAR
);

-- Every problem found in a submission, mapped back to sheet and cell.
CREATE TABLE validation_results (
    submission_id VARCHAR NOT NULL,
    rule_id       VARCHAR NOT NULL,
    severity      VARCHAR NOT NULL,        -- error | warning
    sheet         VARCHAR,
    cell          VARCHAR,
    value         VARCHAR,
    message_vi    VARCHAR NOT NULL
);

-- Acknowledgments sent for submissions (at most one per submission).
CREATE TABLE acknowledgments (
    submission_id VARCHAR PRIMARY KEY,
    status        VARCHAR NOT NULL,        -- sent | failed
    attempts      INTEGER NOT NULL DEFAULT 1,
    sent_at       TIMESTAMPTZ,
    message_id    VARCHAR,
    error         VARCHAR
);

-- Each produced rollup, versioned, and the submission versions behind it.
CREATE TABLE rollups (
    rollup_id   VARCHAR PRIMARY KEY,
    cycle_id    VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,          -- annual | phase
    version     INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    output_dir  VARCHAR NOT NULL,
    headline    JSON
);
CREATE TABLE rollup_sources (
    rollup_id     VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    PRIMARY KEY (rollup_id, submission_id)
);

-- The units a cycle expects: registry entries valid on its (moved) due date.
CREATE VIEW expected_units AS
    SELECT c.id AS cycle_id, u.*
    FROM cycles c JOIN units u
      ON (u.valid_from IS NULL OR u.valid_from <= c.due_date)
     AND (u.valid_to IS NULL OR c.due_date <= u.valid_to);

-- The version that counts for each (unit, cycle): the latest accepted one.
CREATE VIEW current_submissions AS
    SELECT * FROM submissions
    WHERE outcome IN ('accepted', 'accepted_with_warnings')
    QUALIFY row_number() OVER (PARTITION BY unit_code, cycle_id ORDER BY version DESC) = 1;
