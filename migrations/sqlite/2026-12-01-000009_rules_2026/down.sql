ALTER TABLE allocation_runs DROP COLUMN left_out;
ALTER TABLE allocations DROP COLUMN verdict;
ALTER TABLE offers DROP COLUMN measure_approved_until;
ALTER TABLE offers DROP COLUMN max_german_level;
ALTER TABLE customers DROP COLUMN seriously_impeded_placement;
ALTER TABLE customers DROP COLUMN job_ready;
ALTER TABLE customers DROP COLUMN prior_participations;
ALTER TABLE customers DROP COLUMN self_employment_spells;
