-- Invariant 2 (design.md): the cost committed against a plan line's budget, kept as a
-- running total beside the budget instead of summed over every placement of the
-- instrument and year by each new placement (6,916 rows, 2.4 ms, under the line's lock).
-- Committing statuses: PlacementStatus::commits_budget (active ones, completed, aborted);
-- a test checks every status and every move between them against that rule.
ALTER TABLE plan_instruments ADD COLUMN committed_cents BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION passgenau_commits_budget(status TEXT) RETURNS BOOLEAN
    LANGUAGE SQL IMMUTABLE
    AS $$ SELECT status IN ('reserved', 'confirmed', 'started', 'completed', 'aborted') $$;

UPDATE plan_instruments p SET committed_cents = (
    SELECT COALESCE(SUM(a.cost_cents), 0) FROM allocations a
    WHERE a.instrument_code = p.code AND a.budget_year = p.year AND passgenau_commits_budget(a.status));

-- A plan line written later starts from what is committed already. Plan writes lock
-- the allocations first (SHARE, `passgenau_store::plans::put`), so no placement is in
-- flight that this sum could miss.
CREATE FUNCTION passgenau_plan_line_committed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    NEW.committed_cents := (
        SELECT COALESCE(SUM(a.cost_cents), 0) FROM allocations a
        WHERE a.instrument_code = NEW.code AND a.budget_year = NEW.year
          AND passgenau_commits_budget(a.status));
    RETURN NEW;
END $$;
CREATE TRIGGER plan_instruments_committed BEFORE INSERT ON plan_instruments
    FOR EACH ROW EXECUTE FUNCTION passgenau_plan_line_committed();

CREATE FUNCTION passgenau_allocation_committed() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND passgenau_commits_budget(OLD.status) THEN
        UPDATE plan_instruments SET committed_cents = committed_cents - OLD.cost_cents
        WHERE year = OLD.budget_year AND code = OLD.instrument_code;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND passgenau_commits_budget(NEW.status) THEN
        UPDATE plan_instruments SET committed_cents = committed_cents + NEW.cost_cents
        WHERE year = NEW.budget_year AND code = NEW.instrument_code;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER allocations_committed_insert AFTER INSERT ON allocations
    FOR EACH ROW WHEN (passgenau_commits_budget(NEW.status))
    EXECUTE FUNCTION passgenau_allocation_committed();
CREATE TRIGGER allocations_committed_delete AFTER DELETE ON allocations
    FOR EACH ROW WHEN (passgenau_commits_budget(OLD.status))
    EXECUTE FUNCTION passgenau_allocation_committed();
-- only when what counts changes (a move between two committing statuses touches nothing,
-- and takes no lock on the plan line)
CREATE TRIGGER allocations_committed_update
    AFTER UPDATE OF status, cost_cents, budget_year, instrument_code ON allocations
    FOR EACH ROW WHEN (passgenau_commits_budget(OLD.status) IS DISTINCT FROM passgenau_commits_budget(NEW.status)
        OR OLD.cost_cents <> NEW.cost_cents OR OLD.budget_year <> NEW.budget_year
        OR OLD.instrument_code <> NEW.instrument_code)
    EXECUTE FUNCTION passgenau_allocation_committed();
