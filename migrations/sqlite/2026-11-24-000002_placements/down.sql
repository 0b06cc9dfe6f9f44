DROP TABLE allocation_events;
DROP TABLE plan_instruments;
DROP TABLE plans;
DROP TABLE waitlist;
DROP TABLE allocations;
