CREATE TABLE allocations (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    offer_id TEXT NOT NULL REFERENCES offers (id),
    -- copied from the offer: history and reports read it without a join
    instrument_code TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('reserved', 'confirmed', 'started', 'completed', 'aborted', 'declined', 'no_show', 'cancelled')),
    note TEXT,
    cost_cents BIGINT NOT NULL CHECK (cost_cents >= 0),
    budget_year INTEGER NOT NULL,
    started_on DATE,
    ended_on DATE,
    status_reason TEXT,
    override_reason TEXT,
    override_by TEXT,
    source TEXT NOT NULL CHECK (source IN ('specialist', 'waitlist', 'cohort')),
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- invariant 3: one active placement per customer and offer (the last line of defence;
-- the transaction checks first and answers 409 already_allocated)
CREATE UNIQUE INDEX allocations_one_active ON allocations (customer_id, offer_id)
    WHERE status IN ('reserved', 'confirmed', 'started');
CREATE INDEX allocations_offer_status ON allocations (offer_id, status);
CREATE INDEX allocations_customer ON allocations (customer_id);
CREATE INDEX allocations_budget ON allocations (instrument_code, budget_year);

CREATE TABLE waitlist (
    id TEXT PRIMARY KEY NOT NULL,
    offer_id TEXT NOT NULL REFERENCES offers (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL CHECK (status IN ('waiting', 'promoted', 'removed')),
    allocation_id TEXT REFERENCES allocations (id),
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX waitlist_one_waiting ON waitlist (offer_id, customer_id) WHERE status = 'waiting';
CREATE INDEX waitlist_offer ON waitlist (offer_id, status, id);

CREATE TABLE plans (
    year INTEGER PRIMARY KEY NOT NULL,
    budget_cents BIGINT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE plan_instruments (
    year INTEGER NOT NULL REFERENCES plans (year),
    code TEXT NOT NULL REFERENCES instruments (code),
    planned_entries INTEGER NOT NULL CHECK (planned_entries >= 0),
    previous_year_planned_entries INTEGER CHECK (previous_year_planned_entries >= 0),
    budget_cents BIGINT CHECK (budget_cents >= 0),
    PRIMARY KEY (year, code)
);

-- the change feed: every state change of a placement
CREATE TABLE allocation_events (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    allocation_id TEXT NOT NULL REFERENCES allocations (id),
    customer_id TEXT NOT NULL,
    offer_id TEXT NOT NULL,
    instrument_code TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    on_date DATE,
    reason TEXT,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX allocation_events_allocation ON allocation_events (allocation_id);
CREATE INDEX allocation_events_at ON allocation_events (at);
