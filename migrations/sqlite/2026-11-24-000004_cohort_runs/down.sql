DROP TABLE run_proposals;
DROP TABLE allocation_runs;
