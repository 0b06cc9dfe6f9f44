-- A person's data over its life (issue #19, api-contract "A person's data over its life");
-- docs/data-protection.md has the design.

-- Case closure starts the retention clock (§ 84 Abs. 4 SGB X with the Jobcenter's
-- retention period); a legal hold suspends erasure. An erased customer keeps only this
-- row's ID (the pseudonym its placements and events keep) and erased_at; every personal
-- column is blanked.
ALTER TABLE customers ADD COLUMN closed_on DATE;
ALTER TABLE customers ADD COLUMN closure_reason TEXT;
ALTER TABLE customers ADD COLUMN legal_hold BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN erased_at TIMESTAMP;
CREATE INDEX customers_closed_on ON customers (closed_on) WHERE closed_on IS NOT NULL AND erased_at IS NULL;

-- The audit log's seal (passgenau_store::audit_seal): the sealer gives every entry its
-- place in one chain (seal_pos) and the chain's HMAC up to it (seal).
ALTER TABLE audit_log ADD COLUMN seal_pos BIGINT;
ALTER TABLE audit_log ADD COLUMN seal TEXT;
CREATE UNIQUE INDEX audit_log_seal_pos ON audit_log (seal_pos);
CREATE INDEX audit_log_unsealed ON audit_log (at, id) WHERE seal_pos IS NULL;

-- The people a stored idempotent answer shows (customer IDs, comma-separated): its
-- replay is audited as a read of them.
ALTER TABLE idempotency_keys ADD COLUMN subjects TEXT NOT NULL DEFAULT '';

-- A provider steers its intake (passgenau_domain::offer::Intake): paused or open, and
-- the places it can fill now (at most max_places).
ALTER TABLE offers ADD COLUMN intake_status TEXT NOT NULL DEFAULT 'open' CHECK (intake_status IN ('open', 'paused'));
ALTER TABLE offers ADD COLUMN intake_reason TEXT;
ALTER TABLE offers ADD COLUMN places_now INTEGER;
ALTER TABLE offers ADD COLUMN intake_changed_at TIMESTAMP;
ALTER TABLE offers ADD COLUMN intake_changed_by TEXT;
