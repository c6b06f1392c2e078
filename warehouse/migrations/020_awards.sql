-- The commendation path (issue 22): proposals through the Hội đồng Thi đua – Khen
-- thưởng xã, audited like review decisions.

-- The danh sách kèm theo Tờ trình: năm sinh and giới tính of a cá nhân, previous awards.
ALTER TABLE proposals ADD COLUMN birth_year VARCHAR;
ALTER TABLE proposals ADD COLUMN gender VARCHAR;
ALTER TABLE proposals ADD COLUMN previous_awards VARCHAR;
-- A proposal row refused for its form or subject is kept apart, with the reason, for
-- the officer to see ("Đề nghị không hợp lệ"); it counts nowhere.
CREATE TABLE refused_proposals AS SELECT *, NULL::VARCHAR AS refused FROM proposals LIMIT 0;

-- A proposal is the same across a unit's versions when its unit, cycle, name (case and
-- spacing folded) and form are: a decision stays with it when the unit sends again.
CREATE MACRO proposal_key(unit_code, cycle_id, name, reward_form) AS
    concat_ws('|', unit_code, cycle_id, lower(regexp_replace(trim(name), '\s+', ' ', 'g')),
              reward_form);
-- What the council saw: a changed content after its decision is shown as changed.
CREATE MACRO proposal_content(subject_type, name, position, summary) AS
    md5(concat_ws('|', subject_type, name, position, summary));

CREATE SEQUENCE council_meeting_seq;
CREATE TABLE council_meetings (
    id          INTEGER PRIMARY KEY DEFAULT nextval('council_meeting_seq'),
    cycle_id    VARCHAR NOT NULL,
    held_on     DATE NOT NULL,
    present     VARCHAR[] NOT NULL,        -- members present, names as config lists them
    members     INTEGER NOT NULL,          -- tổng số thành viên of the council
    opened_by   VARCHAR NOT NULL,
    opened_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every change of a proposal's state, append-only: from what, to what, who, when, with
-- the vote (council), or the document (Quyết định / Tờ trình / the result received), and
-- the proposal as it was then.  States: thidua/awards.py.
CREATE SEQUENCE proposal_seq;
CREATE TABLE proposal_log (
    seq           BIGINT PRIMARY KEY DEFAULT nextval('proposal_seq'),
    proposal_key  VARCHAR NOT NULL,
    unit_code     VARCHAR NOT NULL,
    cycle_id      VARCHAR NOT NULL,
    submission_id VARCHAR NOT NULL,
    row_no        INTEGER NOT NULL,
    subject_type  VARCHAR,
    name          VARCHAR,
    position      VARCHAR,
    reward_form   VARCHAR NOT NULL,
    summary       VARCHAR,
    content       VARCHAR NOT NULL,
    from_state    VARCHAR NOT NULL,
    to_state      VARCHAR NOT NULL,
    meeting_id    INTEGER,
    votes_for     INTEGER,
    members       INTEGER,
    note          VARCHAR,
    doc_no        VARCHAR,
    doc_date      DATE,
    actor         VARCHAR NOT NULL,
    decided_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE VIEW proposal_decisions AS
    SELECT * FROM proposal_log
    QUALIFY row_number() OVER (PARTITION BY proposal_key ORDER BY seq DESC) = 1;

-- Every proposal of the current version of each (unit, cycle), refused ones included,
-- with its state; and every decided proposal the current version no longer holds.
CREATE VIEW proposal_states AS
WITH cur AS (
    SELECT s.unit_code, s.cycle_id, s.submission_id, s.version, p.row_no, p.subject_type,
           p.name, p.position, p.reward_form, p.summary, p.cell, p.refused, p.birth_year,
           p.gender, p.previous_awards,
           proposal_key(s.unit_code, s.cycle_id, p.name, p.reward_form) AS proposal_key,
           proposal_content(p.subject_type, p.name, p.position, p.summary) AS content
    FROM current_submissions s
    JOIN (SELECT *, NULL AS refused FROM proposals UNION ALL BY NAME
          SELECT * FROM refused_proposals) p USING (submission_id)
)
SELECT coalesce(c.proposal_key, d.proposal_key) AS proposal_key,
       left(md5(coalesce(c.proposal_key, d.proposal_key)), 8) AS id,
       coalesce(c.unit_code, d.unit_code) AS unit_code,
       coalesce(c.cycle_id, d.cycle_id) AS cycle_id,
       coalesce(c.submission_id, d.submission_id) AS submission_id,
       c.version, coalesce(c.row_no, d.row_no) AS row_no,
       coalesce(c.subject_type, d.subject_type) AS subject_type,
       coalesce(c.name, d.name) AS name, coalesce(c.position, d.position) AS position,
       coalesce(c.reward_form, d.reward_form) AS reward_form,
       coalesce(c.summary, d.summary) AS summary, c.cell, c.refused, c.birth_year,
       c.gender, c.previous_awards,
       CASE WHEN c.refused IS NOT NULL THEN 'khong-hop-le'
            ELSE coalesce(d.to_state, 'de-xuat') END AS state,
       CASE WHEN d.seq IS NULL THEN NULL
            WHEN c.proposal_key IS NULL THEN 'removed'
            WHEN c.content <> d.content THEN 'changed' END AS change,
       d.meeting_id, d.votes_for, d.members, d.note, d.doc_no, d.doc_date, d.actor,
       d.decided_at
FROM cur c FULL JOIN proposal_decisions d
     ON c.proposal_key = d.proposal_key AND c.refused IS NULL;
