-- The rules of 2026 (docs/legal-rules.md): histories the rules read (self-employment,
-- participations from before the system), the specialist's recorded assessments, the
-- offer's own AZAV approval and an upper German level, the verdict each placement was
-- made on, and why a cohort run left customers out.
ALTER TABLE customers ADD COLUMN self_employment_spells TEXT NOT NULL DEFAULT '[]';
ALTER TABLE customers ADD COLUMN prior_participations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE customers ADD COLUMN job_ready BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customers ADD COLUMN seriously_impeded_placement BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE offers ADD COLUMN max_german_level TEXT;
ALTER TABLE offers ADD COLUMN measure_approved_until DATE;
-- JSON of the domain's Verdict; NULL for placements made before verdicts were kept
ALTER TABLE allocations ADD COLUMN verdict TEXT;
ALTER TABLE allocation_runs ADD COLUMN left_out TEXT;
