-- The register of awards decided (sổ theo dõi khen thưởng, issue 22 item 5): every
-- proposal the Chủ tịch UBND xã awarded or the higher level decided, and the awards
-- entered by hand for what was decided outside thidua.  Phase reports count it; the
-- council sees a person's or collective's earlier awards from it.

-- Awards entered by hand (`thidua khen-thuong register add|import`), append-only: who
-- entered each and when, like proposal_log.
CREATE SEQUENCE award_entry_seq;
CREATE TABLE award_entries (
    id           INTEGER PRIMARY KEY DEFAULT nextval('award_entry_seq'),
    reward_form  VARCHAR NOT NULL,            -- a code of cycles.yaml reward_forms
    subject_type VARCHAR NOT NULL,            -- Tập thể | Cá nhân | Hộ gia đình
    name         VARCHAR NOT NULL,
    position     VARCHAR,                     -- chức vụ
    unit_name    VARCHAR,                     -- đơn vị công tác, địa chỉ
    birth_year   INTEGER,
    gender       VARCHAR,                     -- Nam | Nữ
    doc_no       VARCHAR NOT NULL,            -- số Quyết định
    doc_date     DATE NOT NULL,               -- ngày Quyết định
    cycle_id     VARCHAR,                     -- the cycle it rewarded, when known
    summary      VARCHAR,
    source       VARCHAR NOT NULL,            -- 'nhap-tay' or the imported file's name
    actor        VARCHAR NOT NULL,
    entered_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE VIEW award_register AS
SELECT 'thidua' AS origin, d.proposal_key, d.cycle_id, d.unit_code,
       NULL::VARCHAR AS unit_name, d.subject_type, d.name, d.position, d.reward_form,
       TRY_CAST(p.birth_year AS INTEGER) AS birth_year, p.gender, d.doc_no, d.doc_date,
       d.summary, d.actor, d.decided_at AS recorded_at
FROM proposal_decisions d
LEFT JOIN proposals p ON p.submission_id = d.submission_id AND p.row_no = d.row_no
WHERE d.to_state IN ('da-khen-thuong', 'cap-tren-quyet-dinh')
UNION ALL BY NAME
SELECT source AS origin, NULL AS proposal_key, cycle_id, NULL AS unit_code, unit_name,
       subject_type, name, position, reward_form, birth_year, gender, doc_no, doc_date,
       summary, actor, entered_at AS recorded_at
FROM award_entries;
