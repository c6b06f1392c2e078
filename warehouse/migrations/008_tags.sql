-- Registry tags (issue 12): what a unit holds beyond its kind (`mot-cua`: the
-- public-service centre that receives the administrative dossiers).  An indicator with
-- tags applies only to the units of its kinds carrying one of them; the rollup sums it
-- over those units alone.  Existing rows get no tags: the views over unit_versions
-- (units, expected_units) are bound at query time and gain the column.
ALTER TABLE unit_versions ADD COLUMN tags VARCHAR[] DEFAULT [];
ALTER TABLE indicators ADD COLUMN tags VARCHAR[] DEFAULT [];
