-- The claim of the worker that runs a cohort run: set when a worker claims it, cleared
-- when the run is handed back. A worker stores its proposals, reports progress or hands
-- the run back only while the claim is still its own, so a run taken over from a worker
-- that went quiet is never finished twice.
ALTER TABLE allocation_runs ADD COLUMN claim TEXT;
