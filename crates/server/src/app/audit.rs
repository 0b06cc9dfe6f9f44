//! The audit entries of an action on customers' and households' data (invariant 7): the
//! routes and the services build them alike. A person's record itself comes sealed from
//! the store ([`passgenau_store::Personal`]) and opens only with an [`Access`] from here.

use passgenau_domain::ids::{CustomerId, HouseholdId};
use passgenau_store::audit::{Action, AuditEntry};
use passgenau_store::Access;

use crate::identity::Caller;

/// The caller's access through `route`, for opening sealed records.
pub fn access(caller: &Caller, action: Action, route: &str) -> Access {
    Access {
        actor: caller.username.clone(),
        role: caller.role.as_str().to_string(),
        action,
        route: route.to_string(),
    }
}

/// The audit entry of a change to an account (a user or an API key): who did it, and the
/// names of the fields it set, never a password, key or token.
pub fn account_entry(
    actor: &str,
    role: passgenau_domain::user::Role,
    action: Action,
    route: &str,
    account_id: uuid::Uuid,
    fields: &[&str],
) -> AuditEntry {
    AuditEntry {
        id: passgenau_domain::ids::new_id(),
        at: passgenau_store::records::now(),
        actor: actor.to_string(),
        role: role.as_str().to_string(),
        action,
        route: route.to_string(),
        customer_id: None,
        household_id: None,
        fields: (!fields.is_empty()).then(|| fields.join(",")),
        account_id: Some(account_id),
    }
}

/// Appends the [`account_entry`] of a change inside its transaction.
pub fn record_account(
    conn: &mut passgenau_store::DbConnection,
    actor: &str,
    role: passgenau_domain::user::Role,
    action: Action,
    route: &str,
    account_id: uuid::Uuid,
    fields: &[&str],
) -> Result<(), passgenau_store::StoreError> {
    passgenau_store::audit::append(
        conn,
        &[account_entry(actor, role, action, route, account_id, fields)],
    )
}

/// Audit entries for one action on several customers/households.
pub fn audit_entries(
    caller: &Caller,
    action: Action,
    route: &str,
    subjects: impl IntoIterator<Item = (Option<CustomerId>, Option<HouseholdId>)>,
) -> Vec<AuditEntry> {
    access(caller, action, route).entries(subjects)
}

/// A page of the audit log (admin).
pub fn entries(
    store: &passgenau_store::Store,
    filter: &passgenau_store::audit::AuditFilter,
    page: &passgenau_store::Page,
) -> crate::app::AppResult<passgenau_store::PageOf<AuditEntry>> {
    store.read(|conn| Ok(passgenau_store::audit::list(conn, filter, page)?))
}

/// Login attempts, newest first, at most `limit` (admin).
pub fn logins(
    store: &passgenau_store::Store,
    username: Option<&str>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    limit: i64,
) -> crate::app::AppResult<Vec<passgenau_store::users::Attempt>> {
    store.read(|conn| Ok(passgenau_store::users::attempts(conn, username, since, limit)?))
}

/// The audit tickets of the reads of one request's database work (see
/// `AppState::db_audited`).
#[derive(Default)]
pub struct Audited(pub(crate) Vec<passgenau_store::audit_group::Ticket>);

impl Audited {
    /// Opens a sealed record for a read: its audit entries go to the group commit, and the
    /// answer waits for them (`AppState::db_audited`).
    pub fn open<T: passgenau_store::Subjects>(
        &mut self,
        store: &passgenau_store::Store,
        access: &passgenau_store::Access,
        sealed: passgenau_store::Personal<T>,
    ) -> T {
        let (value, ticket) = sealed.disclose(store, access);
        self.0.push(ticket);
        value
    }
}
