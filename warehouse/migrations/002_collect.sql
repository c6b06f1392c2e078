-- Collection (issue 5): what a unit should do about each problem, kept beside the
-- message so an acknowledgment re-sent later reads the same; and who an
-- acknowledgment went to.
ALTER TABLE validation_results ADD COLUMN fix_vi VARCHAR;
ALTER TABLE acknowledgments ADD COLUMN recipients VARCHAR;
