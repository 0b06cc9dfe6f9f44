//! Social data (§ 35 SGB I) leaves the store sealed: the reads of what names a person —
//! customer and household records, placements, waiting-list entries, cohort proposals —
//! return a [`Personal`], and the value inside is reached only through a method that
//! writes the audit entry of that access (§ 67a SGB X with § 22 Abs. 2 BDSG). So no
//! caller can read a person's data and forget the audit: the type needs the audit.
//!
//! Two ways open it, one per kind of access:
//! - [`Personal::disclose`] for a read: the entries go to the audit group commit
//!   ([`crate::audit_group`]); the caller answers once the returned ticket is committed.
//! - [`Personal::open_pending`] for work that writes its result later: the entries are
//!   appended with that result ([`PendingAudit::append`]).
//! - [`Personal::open_in`] and [`Personal::change`] inside a write transaction
//!   ([`Store::write`], never a plain read: an SQLite write outside it would pass the
//!   writer queue): the entries are appended in that transaction, all or nothing with the
//!   write.

use passgenau_domain::ids::{CustomerId, HouseholdId};

use crate::audit::{self, Action, AuditEntry};
use crate::audit_group::Ticket;
use crate::connection::DbConnection;
use crate::db::Store;
use crate::error::StoreResult;

/// A record (or page of records) about people, sealed until its access is audited.
///
/// Its field is private, so reaching the record without the audit does not compile:
///
/// ```compile_fail
/// fn peek(sealed: passgenau_store::Personal<passgenau_store::customers::CustomerRecord>) -> String {
///     sealed.0.data.last_name
/// }
/// ```
#[must_use = "a person's record is reached only by auditing the access"]
pub struct Personal<T>(T);

/// Shows nothing of the record: a `{:?}` in a log line must not read it unaudited.
impl<T> std::fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Personal(<sealed>)")
    }
}

/// The people a sealed value is about: (customer, household) pairs of audit entries.
pub trait Subjects {
    fn subjects(&self) -> Vec<(Option<CustomerId>, Option<HouseholdId>)>;
}

impl<T: Subjects> Subjects for Vec<T> {
    fn subjects(&self) -> Vec<(Option<CustomerId>, Option<HouseholdId>)> {
        self.iter().flat_map(Subjects::subjects).collect()
    }
}

impl<T: Subjects> Subjects for crate::records::PageOf<T> {
    fn subjects(&self) -> Vec<(Option<CustomerId>, Option<HouseholdId>)> {
        self.items.subjects()
    }
}

/// Audit entries of records opened earlier, to append in the transaction that writes
/// what was made of them.
#[must_use = "the entries of an opened record must be appended"]
#[derive(Debug, Default)]
pub struct PendingAudit(Vec<AuditEntry>);

impl PendingAudit {
    /// How many entries wait to be appended.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn join(&mut self, other: PendingAudit) {
        self.0.extend(other.0);
    }

    /// Appends the entries inside the caller's write transaction.
    pub fn append(self, conn: &mut DbConnection) -> StoreResult<()> {
        audit::append(conn, &self.0)
    }
}

/// Who accesses, how and through which route: everything of an audit entry but the
/// people, which the sealed value names itself.
#[derive(Debug, Clone)]
pub struct Access {
    pub actor: String,
    pub role: String,
    pub action: Action,
    pub route: String,
}

impl Access {
    /// The entries of this access to `subjects`, one per person.
    pub fn entries(
        &self,
        subjects: impl IntoIterator<Item = (Option<CustomerId>, Option<HouseholdId>)>,
    ) -> Vec<AuditEntry> {
        let at = crate::records::now();
        subjects
            .into_iter()
            .map(|(customer_id, household_id)| AuditEntry {
                id: passgenau_domain::ids::new_id(),
                at,
                actor: self.actor.clone(),
                role: self.role.clone(),
                action: self.action,
                route: self.route.clone(),
                customer_id,
                household_id,
                fields: None,
                account_id: None,
            })
            .collect()
    }
}

impl<T: Subjects> Personal<T> {
    pub(crate) fn seal(value: T) -> Self {
        Personal(value)
    }

    /// A read: audits it through the group commit and hands the value over. Answer only
    /// once the ticket is committed.
    pub fn disclose(self, store: &Store, access: &Access) -> (T, Ticket) {
        let ticket = store.audit_reads(access.entries(self.0.subjects()));
        (self.0, ticket)
    }

    /// Inside a write transaction: appends the entries in it and hands the value over.
    pub fn open_in(self, conn: &mut DbConnection, access: &Access) -> StoreResult<T> {
        audit::append(conn, &access.entries(self.0.subjects()))?;
        Ok(self.0)
    }

    /// Inside a write transaction, for a change of the people's data: `change` gets the
    /// value, does the write and returns its result with the names of the fields it
    /// changed; the change's own entries (the access's action, those fields) are then
    /// appended for the people as read. One entry per person and change, no extra read.
    pub fn change<U, E>(
        self,
        conn: &mut DbConnection,
        access: &Access,
        change: impl FnOnce(&mut DbConnection, T) -> Result<(U, Option<String>), E>,
    ) -> Result<U, E>
    where
        E: From<crate::error::StoreError>,
    {
        let subjects = self.0.subjects();
        let (out, fields) = change(conn, self.0)?;
        let mut entries = access.entries(subjects);
        for e in &mut entries {
            e.fields = fields.clone();
        }
        audit::append(conn, &entries)?;
        Ok(out)
    }

    /// For work that writes its result later in a transaction of its own (a cohort run):
    /// the value now, and the entries to append with that result.
    pub fn open_pending(self, access: &Access) -> (T, PendingAudit) {
        let entries = access.entries(self.0.subjects());
        (self.0, PendingAudit(entries))
    }

    /// Whom the value is about, without opening it (to audit, or to refuse, by ID).
    pub fn subjects(&self) -> Vec<(Option<CustomerId>, Option<HouseholdId>)> {
        self.0.subjects()
    }
}
