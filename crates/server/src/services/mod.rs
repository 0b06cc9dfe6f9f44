//! Application services: the orchestration between the store and the pure engine that
//! more than one route needs (online placement, waitlist promotion, cohort accepts).

pub mod audit;
pub mod availability_cache;
pub mod cohort_runs;
pub mod idempotency;
pub mod offer_snapshot;
pub mod placements;
