DROP INDEX audit_log_unsealed;
DROP INDEX audit_log_seal_pos;
ALTER TABLE audit_log DROP COLUMN seal;
ALTER TABLE audit_log DROP COLUMN seal_pos;
DROP INDEX customers_closed_on;
ALTER TABLE customers DROP COLUMN erased_at;
ALTER TABLE customers DROP COLUMN legal_hold;
ALTER TABLE customers DROP COLUMN closure_reason;
ALTER TABLE customers DROP COLUMN closed_on;
