-- Cohort runs: queued by the API, claimed by one worker of any instance, proposals kept
-- for a person to decide (invariant 5).
CREATE TABLE allocation_runs (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    request TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    heartbeat_at TIMESTAMP,
    progress_done BIGINT NOT NULL,
    progress_total BIGINT NOT NULL,
    customers BIGINT,
    offers BIGINT,
    arcs BIGINT,
    objective BIGINT,
    assigned BIGINT,
    optimal BOOLEAN,
    duration_ms BIGINT,
    error TEXT
);
CREATE INDEX allocation_runs_status ON allocation_runs (status, id);

CREATE TABLE run_proposals (
    id TEXT PRIMARY KEY NOT NULL,
    run_id TEXT NOT NULL REFERENCES allocation_runs (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    offer_id TEXT NOT NULL REFERENCES offers (id),
    score BIGINT NOT NULL,
    explanation TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('pending', 'accepted', 'rejected')),
    reason TEXT,
    decided_by TEXT,
    decided_at TIMESTAMP,
    allocation_id TEXT REFERENCES allocations (id)
);
CREATE INDEX run_proposals_run ON run_proposals (run_id, id);
