-- target groups of the customer on the day of entry (Eintritt), as the BA counts them
ALTER TABLE allocations ADD COLUMN entry_target_groups TEXT;
