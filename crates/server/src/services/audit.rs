//! The audit entries of an action on customers' and households' data (invariant 7): the
//! routes and the services build them alike.

use passgenau_domain::ids::{CustomerId, HouseholdId};
use passgenau_store::audit::{Action, AuditEntry};

use crate::auth::Caller;

/// Audit entries for one action on several customers/households.
pub fn audit_entries(
    caller: &Caller,
    action: Action,
    route: &str,
    subjects: impl IntoIterator<Item = (Option<CustomerId>, Option<HouseholdId>)>,
) -> Vec<AuditEntry> {
    let at = passgenau_store::records::now();
    subjects
        .into_iter()
        .map(|(customer_id, household_id)| AuditEntry {
            id: passgenau_domain::ids::new_id(),
            at,
            actor: caller.username.clone(),
            role: caller.role.as_str().to_string(),
            action,
            route: route.to_string(),
            customer_id,
            household_id,
            fields: None,
        })
        .collect()
}
