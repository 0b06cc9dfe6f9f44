-- Recognising and bringing in people (issue #18, api-contract "Finding and bringing in
-- people"); docs/import.md has the import's design.

-- How to reach the person (passgenau_domain::customer::Contact, as JSON).
ALTER TABLE customers ADD COLUMN contact TEXT NOT NULL DEFAULT '{}';
-- A record merged into another (its duplicate) stays as a tombstone that names the
-- survivor; it is found by no list or search and answers 404 with `merged_into`.
ALTER TABLE customers ADD COLUMN merged_into TEXT;
ALTER TABLE customers ADD COLUMN merged_at TIMESTAMP;
ALTER TABLE customers ADD COLUMN merge_reason TEXT;
CREATE INDEX customers_date_of_birth ON customers (date_of_birth);

-- The duplicate check's index (passgenau_domain::search::birth_keys): the date of birth
-- with the sound of each word of the last name ("1988-04-12|657"), or the word itself
-- where it has no sound. Two records that may be one person share a key. Written with
-- the name index; what that index holds already is copied here.
CREATE TABLE customer_birth_keys (
    birth_key TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    PRIMARY KEY (birth_key, customer_id)
);
CREATE INDEX customer_birth_keys_customer ON customer_birth_keys (customer_id);
INSERT INTO customer_birth_keys (birth_key, customer_id)
SELECT DISTINCT c.date_of_birth || '|' || CASE WHEN w.sound = '' THEN 'w:' || w.word ELSE w.sound END, c.id
FROM customer_name_words w JOIN customers c ON c.id = w.customer_id
WHERE w.part = 'last';

-- Imports (POST /imports): the job an instance runs over the file it received.
CREATE TABLE import_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    format TEXT NOT NULL CHECK (format IN ('ndjson', 'csv')),
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    heartbeat_at TIMESTAMP,
    bytes_total BIGINT NOT NULL,
    bytes_read BIGINT NOT NULL,
    lines BIGINT NOT NULL,
    imported BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    rejected_count BIGINT NOT NULL,
    rejected TEXT NOT NULL,
    error TEXT
);
CREATE INDEX import_jobs_created ON import_jobs (created_at);
