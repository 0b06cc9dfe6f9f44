ALTER TABLE allocations DROP COLUMN entry_target_groups;
