//! A case over its life: closing and reopening it, erasing it now (Art. 17 DSGVO) and
//! erasing every closed case past its retention period (the retention job). Which cases
//! may be erased, and from when, is `passgenau_domain::retention`; what an erasure
//! removes is listed in docs/data-protection.md, "Erasure".
//!
//! An erasure keeps the customer's ID as a pseudonym: placements, their events, the plan
//! figures and the change feed name people by it and stay exactly as they were, so every
//! report counts the same; nothing else of the person is kept. Its audit entry names the
//! ID and the reason, and nothing personal.

use chrono::NaiveDate;
use passgenau_domain::ids::CustomerId;
use passgenau_domain::retention::{self, Closure};
use passgenau_domain::user::Role;
use passgenau_store::audit::Action;
use passgenau_store::customers::{self as repo, CustomerRecord};
use passgenau_store::{erasure, merges, DbConnection, Store, StoreError};

use crate::app::audit::access;
use crate::app::customers::WithHousehold;
use crate::app::error::{check_fields, check_version, missing, AppError, AppResult};
use crate::identity::Caller;

/// What replaces the customer number where an import's report named it.
const ERASED_MARK: &str = "[gelöscht]";

/// Why an erasure happened, as its audit entry says: 1–200 characters, no control
/// characters. It says why (a request under Art. 17, the end of the period), never who.
fn check_reason(reason: &str) -> AppResult<()> {
    let mut c = passgenau_domain::validation::Checker::default();
    c.text("reason", reason, 200);
    check_fields(c.finish())
}

/// Closes the case on `closure.closed_on` (the retention period begins the next day).
/// A case with active placements or waiting-list entries is not closed (409
/// `active_placements`): they end first, each with its own reason.
#[allow(clippy::too_many_arguments)]
pub fn close(
    store: &Store,
    caller: &Caller,
    route: &str,
    id: CustomerId,
    if_match: Option<&[i64]>,
    closure: Closure,
    retention_years: u32,
    today: NaiveDate,
) -> AppResult<WithHousehold> {
    check_fields(closure.errors(today))?;
    // a closure whose period has ended already makes the case due for erasure at once:
    // that is an erasure, which only an admin decides (`erase_now`)
    if retention::erasable(closure.closed_on, false, retention_years, today) && caller.role != Role::Admin {
        return Err(AppError::Forbidden(format!(
            "a case closed on {} is past its retention period of {retention_years} years and would be \
             erased at once: only an admin records such a closure",
            closure.closed_on
        )));
    }
    set(store, caller, route, id, if_match, Some(closure))
}

/// Reopens a closed case (the retention clock stops); an open case stays as it is.
pub fn reopen(
    store: &Store,
    caller: &Caller,
    route: &str,
    id: CustomerId,
    if_match: Option<&[i64]>,
) -> AppResult<WithHousehold> {
    set(store, caller, route, id, if_match, None)
}

fn set(
    store: &Store,
    caller: &Caller,
    route: &str,
    id: CustomerId,
    if_match: Option<&[i64]>,
    closure: Option<Closure>,
) -> AppResult<WithHousehold> {
    store.write(|conn| {
        // a placement being made for the person commits first, or sees the closure
        repo::lock(conn, id)?;
        let sealed = repo::get(conn, id).map_err(missing("customer"))?;
        sealed.change(conn, &access(caller, Action::Update, route), |conn, current| {
            check_version(if_match, current.meta.version)?;
            if closure.is_some() {
                let active = merges::active_offers(conn, id)?.len();
                let waiting = merges::waiting(conn, id)?.len();
                if active + waiting > 0 {
                    return Err(AppError::conflict(
                        "active_placements",
                        format!(
                            "the customer holds {active} active placements and {waiting} waiting-list \
                             entries: end, cancel or leave them before the case is closed"
                        ),
                    ));
                }
            }
            if current.closure == closure {
                let members = crate::app::customers::members_of(conn, &current)?;
                return Ok(((current, members), None));
            }
            let now = passgenau_store::records::now();
            repo::set_closure(conn, id, closure.as_ref(), now)?;
            let mut rec = current;
            rec.closure = closure;
            rec.meta.version += 1;
            rec.meta.updated_at = now;
            let members = crate::app::customers::members_of(conn, &rec)?;
            Ok(((rec, members), Some("closure".to_string())))
        })
    })
}

/// Whether `rec` may be erased now: a closed case without a legal hold (409
/// `retention_required` otherwise: the file is still needed for the task, § 84 Abs. 2
/// SGB X, or held, § 84 Abs. 3 SGB X).
fn check_erasable(rec: &CustomerRecord) -> AppResult<()> {
    match (&rec.closure, rec.data.legal_hold) {
        (None, _) => Err(AppError::conflict(
            "retention_required",
            "the case is open: close it first (PUT /customers/{id}/closure)",
        )),
        (Some(_), true) => Err(AppError::conflict(
            "retention_required",
            "a legal hold suspends the erasure: an admin lifts it first",
        )),
        (Some(_), false) => Ok(()),
    }
}

/// Removes everything of the person but the pseudonym, inside the caller's transaction
/// (whose `change` appends the erasure's audit entry).
fn erase_in(conn: &mut DbConnection, rec: &CustomerRecord) -> AppResult<()> {
    let id = rec.meta.id;
    let now = passgenau_store::records::now();
    // every tombstone of the person: merged into them, or into one merged into them
    let mut duplicates = Vec::new();
    let mut next = repo::merged_into(conn, id)?;
    while let Some(d) = next.pop() {
        if d != id && !duplicates.contains(&d) {
            duplicates.push(d);
            next.extend(repo::merged_into(conn, d)?);
        }
    }
    for duplicate in duplicates {
        if let Some(number) = repo::number_of(conn, duplicate)? {
            erasure::scrub_import_reports(conn, &number, ERASED_MARK)?;
        }
        erasure::leave_household(conn, duplicate, None)?;
        erasure::drop_stored_answers(conn, &duplicate.to_string())?;
        match repo::blank(conn, duplicate, now) {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    erasure::leave_household(conn, id, rec.household_id)?;
    erasure::clear_placement_notes(conn, id)?;
    erasure::drop_entries_and_proposals(conn, id)?;
    erasure::drop_stored_answers(conn, &id.to_string())?;
    erasure::scrub_import_reports(conn, &rec.data.customer_number, ERASED_MARK)?;
    repo::blank(conn, id, now)?;
    Ok(())
}

/// The `fields` of an erasure's audit entry.
fn erasure_note(reason: &str) -> Option<String> {
    Some(format!("erasure: {}", reason.trim()))
}

/// Erases the person now (admin; Art. 17 DSGVO): a closed case without a legal hold.
pub fn erase_now(store: &Store, caller: &Caller, route: &str, id: CustomerId, reason: &str) -> AppResult<()> {
    if caller.role != Role::Admin {
        return Err(AppError::Forbidden("only an admin erases a person".into()));
    }
    check_reason(reason)?;
    store.write(|conn| {
        // a reopening or a legal hold being written commits first and is seen here
        repo::lock(conn, id)?;
        let sealed = repo::get(conn, id).map_err(missing("customer"))?;
        sealed.change(conn, &access(caller, Action::Delete, route), |conn, rec| {
            check_erasable(&rec)?;
            erase_in(conn, &rec)?;
            Ok(((), erasure_note(reason)))
        })
    })
}

/// What a run of the retention job found and did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RetentionReport {
    /// The latest closure day whose retention period has ended.
    pub closed_on_or_before: Option<NaiveDate>,
    /// The cases due (a dry run erases none of them).
    pub due: u64,
    pub erased: u64,
    /// Erasures that failed (logged; tried again by the next run).
    pub failed: u64,
    pub dry_run: bool,
}

/// The audit actor and route of the retention job; it acts with an admin's authority
/// (its entries' role is `admin`: the admin who configured the period answers for it).
pub const RETENTION_ACTOR: &str = "retention";
const RETENTION_ROUTE: &str = "passgenau retention run";

/// Erases every closed, unheld case whose retention period of `years` years has ended
/// by `today` (one transaction per person, each checked again inside it), or with
/// `dry_run` only counts them.
pub fn run_retention(
    store: &Store,
    years: u32,
    today: NaiveDate,
    dry_run: bool,
) -> AppResult<RetentionReport> {
    let mut report = RetentionReport {
        dry_run,
        ..Default::default()
    };
    let Some(cutoff) = retention::latest_erasable_closure(years, today) else {
        return Ok(report);
    };
    report.closed_on_or_before = Some(cutoff);
    let reason = format!("the retention period of {years} years after the closure ended");
    let job = passgenau_store::Access {
        actor: RETENTION_ACTOR.into(),
        role: Role::Admin.as_str().into(),
        action: Action::Delete,
        route: RETENTION_ROUTE.into(),
    };
    let mut after: Option<CustomerId> = None;
    loop {
        let batch = store.read(|conn| repo::closed_unheld(conn, cutoff, after, 500))?;
        let Some(last) = batch.last().copied() else { break };
        after = Some(last);
        report.due += batch.len() as u64;
        if dry_run {
            continue;
        }
        for id in batch {
            let erased = store.write(|conn| {
                repo::lock(conn, id)?;
                let sealed = match repo::get(conn, id) {
                    Ok(sealed) => sealed,
                    Err(StoreError::NotFound | StoreError::Merged { .. }) => return Ok(false),
                    Err(e) => return Err(AppError::from(e)),
                };
                sealed.change(conn, &job, |conn, rec| {
                    let due = rec
                        .closure
                        .as_ref()
                        .is_some_and(|c| retention::erasable(c.closed_on, rec.data.legal_hold, years, today));
                    if !due {
                        // reopened or held since it was listed: nothing is written
                        return Err(AppError::conflict("retention_required", "no longer due"));
                    }
                    erase_in(conn, &rec)?;
                    Ok((true, erasure_note(&reason)))
                })
            });
            match erased {
                Ok(true) => report.erased += 1,
                // reopened, held or erased meanwhile
                Ok(false) | Err(AppError::Conflict { .. }) | Err(AppError::Store(StoreError::NotFound)) => {}
                // one person's failure does not hold back the others' erasure; the
                // case stays due and the next run tries it again
                Err(e) => {
                    tracing::warn!(customer = %id, error = %e, "an erasure of the retention run failed");
                    report.failed += 1;
                }
            }
        }
    }
    Ok(report)
}

/// Runs the retention job once a day on one instance of many: the instance that claims
/// the day runs it (the others find it claimed).
pub fn run_daily(store: &Store, years: u32, today: NaiveDate) -> AppResult<Option<RetentionReport>> {
    let day = today.format("%Y-%m-%d").to_string();
    if !store.write(|conn| passgenau_store::settings::claim(conn, "retention_last_day", &day))? {
        return Ok(None);
    }
    run_retention(store, years, today, false).map(Some)
}
