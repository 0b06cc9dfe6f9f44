//! Passgenau's domain: the records a Jobcenter keeps and the rules it applies to them.
//!
//! Pure types and functions. Nothing here performs I/O or knows of diesel or actix
//! (CI checks this with `cargo tree`), so every rule can be tested and recomputed as of
//! any date.

pub mod catalogue;
pub mod customer;
pub mod dates;
pub mod decision;
pub mod eligibility;
pub mod household;
pub mod ids;
pub mod import;
pub mod offer;
pub mod participation;
pub mod placement;
pub mod provider;
pub mod reporting;
pub mod retention;
pub mod search;
pub mod spells;
pub mod status;
pub mod target_groups;
pub mod user;
pub mod validation;

pub use customer::{CustomerData, Gender, GermanLevel, VocationalQualification};
pub use household::{HouseholdMember, HouseholdRole};
pub use spells::Spell;
pub use target_groups::TargetGroup;
pub use validation::{FieldError, Validate};
