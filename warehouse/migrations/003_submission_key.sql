-- Rollups (issue 6): an integer surrogate key per submission, copied onto its values, so
-- rollups join millions of values to their submission on a BIGINT rather than on the
-- 64-character sha256.  New submissions draw it from the sequence; warehouse.writer's
-- load_submissions copies it onto their values in the same transaction.
CREATE SEQUENCE submission_sk;
ALTER TABLE submissions ADD COLUMN sk BIGINT DEFAULT nextval('submission_sk');
ALTER TABLE submission_values ADD COLUMN sk BIGINT;
UPDATE submission_values v SET sk = s.sk FROM submissions s
WHERE s.submission_id = v.submission_id;
