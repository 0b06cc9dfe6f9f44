DROP TRIGGER allocations_committed_update;
DROP TRIGGER allocations_committed_delete;
DROP TRIGGER allocations_committed_insert;
DROP TRIGGER plan_instruments_committed;
ALTER TABLE plan_instruments DROP COLUMN committed_cents;
