//! Bedarfsgemeinschaften (§ 7 Abs. 3 SGB II) and their members: create, read, list,
//! update, add and remove members. A member may be a customer (then the customer's
//! `household_id` follows the membership) or a person without a customer record.

use chrono::NaiveDate;
use passgenau_domain::customer::check_not_future;
use passgenau_domain::household::{HouseholdData, HouseholdMember, HouseholdRole, MAX_MEMBERS};
use passgenau_domain::ids::{CustomerId, HouseholdId, MemberId};
use passgenau_domain::Validate;
use passgenau_store::audit::{self, Action};
use passgenau_store::households::{self as repo, HouseholdRecord};
use passgenau_store::{customers, Access, DbConnection, Meta, Page, PageOf, Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::audit::Audited;
use crate::app::audit::{access, audit_entries};
use crate::app::error::{check_fields, check_version, missing, AppError, AppResult};
use crate::identity::Caller;
use crate::patch::MergePatch;

/// A new member: either a customer (`customer_id`; the date of birth is taken from the
/// customer record) or a person without one (`date_of_birth` required).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    #[serde(default)]
    pub customer_id: Option<CustomerId>,
    pub role: HouseholdRole,
    #[serde(default)]
    pub date_of_birth: Option<NaiveDate>,
}

/// Validates a new member and adds it inside the caller's transaction; links the customer.
/// A customer's record is read (for the date of birth) with the change's `access`.
fn insert_member(
    conn: &mut DbConnection,
    household_id: HouseholdId,
    existing: usize,
    new: &NewMember,
    field: &str,
    access: &Access,
    today: NaiveDate,
) -> AppResult<HouseholdMember> {
    if existing >= MAX_MEMBERS {
        return Err(AppError::invalid(
            field,
            format!("a household has at most {MAX_MEMBERS} members"),
        ));
    }
    let now = passgenau_store::records::now();
    let date_of_birth = match (new.customer_id, new.date_of_birth) {
        (Some(cid), given) => {
            let c = customers::get(conn, cid)
                .map_err(|e| match e {
                    StoreError::NotFound => {
                        AppError::invalid(format!("{field}.customer_id"), "no such customer")
                    }
                    other => other.into(),
                })?
                .open_in(conn, access)?;
            if given.is_some_and(|d| d != c.data.date_of_birth) {
                return Err(AppError::invalid(
                    format!("{field}.date_of_birth"),
                    "differs from the customer's date of birth; leave it out",
                ));
            }
            c.data.date_of_birth
        }
        (None, Some(d)) => {
            check_fields(
                check_not_future(&format!("{field}.date_of_birth"), d, today)
                    .into_iter()
                    .collect(),
            )?;
            d
        }
        (None, None) => {
            return Err(AppError::invalid(
                format!("{field}.date_of_birth"),
                "required for a member without customer_id",
            ))
        }
    };
    let m = HouseholdMember {
        id: passgenau_domain::ids::new_id(),
        customer_id: new.customer_id,
        role: new.role,
        date_of_birth,
    };
    repo::add_member(conn, household_id, &m, now)?;
    if let Some(cid) = m.customer_id {
        customers::set_household(conn, cid, Some(household_id), now)?;
    }
    Ok(m)
}

/// The checks that need no database.
pub fn precheck(data: &HouseholdData) -> AppResult<()> {
    check_fields(data.validate())
}

/// A new household with its first members, audited as created (the household and every
/// member; a member's customer record also as read for its date of birth).
pub fn create(
    store: &Store,
    caller: &Caller,
    route: &str,
    data: HouseholdData,
    members: &[NewMember],
    today: NaiveDate,
) -> AppResult<HouseholdRecord> {
    store.write(|conn| {
        let meta = Meta::new(passgenau_domain::ids::new_id(), passgenau_store::records::now());
        let create = access(caller, Action::Create, route);
        repo::insert(conn, &meta, &data)?;
        for (i, m) in members.iter().enumerate() {
            insert_member(conn, meta.id, i, m, &format!("members[{i}]"), &create, today)?;
        }
        Ok(repo::get(conn, meta.id)?.open_in(conn, &create)?)
    })
}

/// One household with its members, audited as read.
pub fn get(
    store: &Store,
    audit: &mut Audited,
    caller: &Caller,
    route: &str,
    id: HouseholdId,
) -> AppResult<HouseholdRecord> {
    let read = access(caller, Action::Read, route);
    store.read(|conn| Ok(audit.open(store, &read, repo::get(conn, id).map_err(missing("household"))?)))
}

/// A page of households, each (and its members) audited as read.
pub fn list(
    store: &Store,
    audit: &mut Audited,
    caller: &Caller,
    route: &str,
    household_number: Option<&str>,
    district: Option<&str>,
    page: &Page,
) -> AppResult<PageOf<HouseholdRecord>> {
    let read = access(caller, Action::Read, route);
    store.read(|conn| Ok(audit.open(store, &read, repo::list(conn, household_number, district, page)?)))
}

/// Applies a merge patch of `household_number` and `district`; members have their own
/// use cases.
pub fn update(
    store: &Store,
    caller: &Caller,
    route: &str,
    id: HouseholdId,
    if_match: Option<&[i64]>,
    patch: MergePatch<HouseholdData>,
) -> AppResult<HouseholdRecord> {
    store.write(|conn| {
        let sealed = repo::get(conn, id).map_err(missing("household"))?;
        sealed.change(conn, &access(caller, Action::Update, route), |conn, current| {
            check_version(if_match, current.meta.version)?;
            let data: HouseholdData = patch.apply(&current.data)?;
            check_fields(data.validate())?;
            let mut meta = current.meta.clone();
            meta.version += 1;
            meta.updated_at = passgenau_store::records::now();
            repo::update(conn, &meta, &data, current.meta.version)?;
            // the members have their own use cases: the same as read
            let rec = HouseholdRecord {
                meta,
                data,
                members: current.members,
            };
            Ok((rec, None))
        })
    })
}

/// Adds a member, audited as a change of the household naming the member.
pub fn add_member(
    store: &Store,
    caller: &Caller,
    route: &str,
    id: HouseholdId,
    new: &NewMember,
    today: NaiveDate,
) -> AppResult<HouseholdMember> {
    store.write(|conn| {
        let members = repo::member_count(conn, id).map_err(missing("household"))?;
        let change = access(caller, Action::Update, route);
        let m = insert_member(conn, id, members, new, "body", &change, today)?;
        repo::touch(conn, id, passgenau_store::records::now())?;
        // the change of the household, naming the member (a customer's record read for
        // its date of birth has its own entry)
        audit::append(
            conn,
            &audit_entries(caller, Action::Update, route, [(m.customer_id, Some(id))]),
        )?;
        Ok(m)
    })
}

/// Removes a member; a customer's record leaves the household.
pub fn remove_member(
    store: &Store,
    caller: &Caller,
    route: &str,
    id: HouseholdId,
    member_id: MemberId,
) -> AppResult<()> {
    store.write(|conn| {
        let m = repo::remove_member(conn, id, member_id).map_err(missing("household member"))?;
        let now = passgenau_store::records::now();
        if let Some(cid) = m.customer_id {
            customers::set_household(conn, cid, None, now)?;
        }
        repo::touch(conn, id, now)?;
        audit::append(
            conn,
            &audit_entries(caller, Action::Delete, route, [(m.customer_id, Some(id))]),
        )?;
        Ok(())
    })
}
