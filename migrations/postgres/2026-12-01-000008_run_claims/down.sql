ALTER TABLE allocation_runs DROP COLUMN claim;
