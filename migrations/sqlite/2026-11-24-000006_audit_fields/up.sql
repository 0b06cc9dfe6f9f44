-- which fields a change touched (names only, never values): health data changes are visible (§ 67a SGB X, § 22 Abs. 2 BDSG)
ALTER TABLE audit_log ADD COLUMN fields TEXT;
