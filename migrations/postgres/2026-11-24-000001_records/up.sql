-- Passgenau: users, records, audit (PostgreSQL). IDs are UUID text, timestamps UTC.
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'specialist', 'provider', 'reporting')),
    provider_id TEXT,
    created_at TIMESTAMP NOT NULL,
    CHECK ((role = 'provider') = (provider_id IS NOT NULL))
);

CREATE TABLE providers (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    azav_certified_until DATE,
    contact_email TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX providers_name ON providers (name);

CREATE TABLE instruments (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    purpose_group TEXT NOT NULL,
    funding TEXT NOT NULL,
    builtin BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE households (
    id TEXT PRIMARY KEY NOT NULL,
    household_number TEXT NOT NULL UNIQUE,
    district TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE customers (
    id TEXT PRIMARY KEY NOT NULL,
    customer_number TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    gender TEXT NOT NULL,
    nationality TEXT NOT NULL,
    postal_code TEXT,
    district TEXT,
    household_id TEXT REFERENCES households (id),
    vocational_qualification TEXT NOT NULL,
    german_level TEXT NOT NULL,
    health_restrictions BOOLEAN NOT NULL,
    severely_disabled BOOLEAN NOT NULL,
    rehabilitant BOOLEAN NOT NULL,
    refugee BOOLEAN NOT NULL,
    solo_self_employed BOOLEAN NOT NULL,
    -- histories as JSON arrays of {from, to}: always read and written with the customer
    benefit_spells TEXT NOT NULL,
    unemployment_spells TEXT NOT NULL,
    employment_spells TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX customers_last_name ON customers (last_name, id);
CREATE INDEX customers_district ON customers (district, id);
CREATE INDEX customers_household ON customers (household_id);

CREATE TABLE household_members (
    id TEXT PRIMARY KEY NOT NULL,
    household_id TEXT NOT NULL REFERENCES households (id),
    customer_id TEXT REFERENCES customers (id),
    role TEXT NOT NULL CHECK (role IN ('applicant', 'partner', 'child', 'other')),
    date_of_birth DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX household_members_household ON household_members (household_id);
-- a customer belongs to at most one Bedarfsgemeinschaft
CREATE UNIQUE INDEX household_members_customer ON household_members (customer_id)
    WHERE customer_id IS NOT NULL;

CREATE TABLE offers (
    id TEXT PRIMARY KEY NOT NULL,
    instrument_code TEXT NOT NULL REFERENCES instruments (code),
    provider_id TEXT NOT NULL REFERENCES providers (id),
    title TEXT NOT NULL,
    district TEXT NOT NULL,
    postal_code TEXT,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    entry TEXT NOT NULL CHECK (entry IN ('fixed', 'rolling')),
    planned_places INTEGER NOT NULL CHECK (planned_places >= 0),
    max_places INTEGER NOT NULL CHECK (max_places >= 0),
    cost_per_place_cents BIGINT NOT NULL CHECK (cost_per_place_cents >= 0),
    target_groups TEXT NOT NULL,
    min_age INTEGER,
    max_age INTEGER,
    min_german_level TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX offers_instrument ON offers (instrument_code, id);
CREATE INDEX offers_provider ON offers (provider_id, id);
CREATE INDEX offers_starts ON offers (starts_on);

CREATE TABLE idempotency_keys (
    actor TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (actor, scope, key)
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('read', 'create', 'update', 'delete')),
    route TEXT NOT NULL,
    customer_id TEXT,
    household_id TEXT
);
CREATE INDEX audit_log_customer ON audit_log (customer_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);
