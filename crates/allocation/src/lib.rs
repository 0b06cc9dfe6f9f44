//! The allocation engine: scores with explanations, ranking for one customer, and the
//! min-cost-flow solver for cohorts. Pure functions over domain values — no I/O, no
//! diesel, no actix — so every decision can be recomputed and tested.

pub mod cohort;
pub mod dimacs;
pub mod flow;
pub mod recommend;
pub mod scoring;

pub use recommend::{recommend, Candidate, CustomerContext, Recommendation};
pub use scoring::{ExplanationItem, ScoringConfig};
