DROP TRIGGER allocations_committed_update ON allocations;
DROP TRIGGER allocations_committed_delete ON allocations;
DROP TRIGGER allocations_committed_insert ON allocations;
DROP FUNCTION passgenau_allocation_committed();
DROP TRIGGER plan_instruments_committed ON plan_instruments;
DROP FUNCTION passgenau_plan_line_committed();
DROP FUNCTION passgenau_commits_budget(TEXT);
ALTER TABLE plan_instruments DROP COLUMN committed_cents;
