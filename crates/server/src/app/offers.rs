//! Offers with planned places: list, read, create, update.

use passgenau_domain::ids::OfferId;
use passgenau_domain::offer::OfferData;
use passgenau_domain::{FieldError, Validate};
use passgenau_store::offers::{self as repo, OfferFilter, OfferRecord};
use passgenau_store::{instruments, providers, DbConnection, Meta, Page, PageOf, Store, StoreError};

use crate::app::error::{check_fields, check_version, missing, AppError, AppResult};
use crate::identity::Caller;
use crate::patch::MergePatch;
use passgenau_domain::ids::ProviderId;
use passgenau_store::allocations;

/// The offer's own rules plus its references: the instrument and the provider must exist.
fn check(conn: &mut DbConnection, d: &OfferData) -> AppResult<()> {
    let mut errors = d.validate();
    match instruments::get(conn, &d.instrument_code) {
        Ok(_) => {}
        Err(StoreError::NotFound) => errors.push(FieldError::new("instrument_code", "unknown instrument")),
        Err(e) => return Err(e.into()),
    }
    if !providers::exists(conn, d.provider_id)? {
        errors.push(FieldError::new("provider_id", "unknown provider"));
    }
    check_fields(errors)
}

pub fn list(store: &Store, filter: &OfferFilter, page: &Page) -> AppResult<PageOf<OfferRecord>> {
    store.read(|conn| Ok(repo::list(conn, filter, page)?))
}

/// The briefs a screen shows of these offers beside other records (no person in them).
pub fn briefs(
    store: &Store,
    ids: &[OfferId],
) -> AppResult<std::collections::HashMap<OfferId, repo::OfferBrief>> {
    store.read(|conn| Ok(repo::briefs(conn, ids)?))
}

pub fn get(store: &Store, id: OfferId) -> AppResult<OfferRecord> {
    store.read(|conn| repo::get(conn, id).map_err(missing("offer")))
}

pub fn create(store: &Store, data: OfferData) -> AppResult<OfferRecord> {
    store.write(|conn| {
        check(conn, &data)?;
        let rec = OfferRecord {
            meta: Meta::new(passgenau_domain::ids::new_id(), passgenau_store::records::now()),
            data,
        };
        repo::insert(conn, &rec)?;
        Ok(rec)
    })
}

/// Applies a merge patch to the version the caller read (`if_match`, if it said).
pub fn update(
    store: &Store,
    id: OfferId,
    if_match: Option<&[i64]>,
    patch: MergePatch<OfferData>,
) -> AppResult<OfferRecord> {
    store.write(|conn| {
        let current = repo::get(conn, id).map_err(missing("offer"))?;
        check_version(if_match, current.meta.version)?;
        let data: OfferData = patch.apply(&current.data)?;
        if data.intake != current.data.intake {
            return Err(AppError::invalid(
                "intake",
                "is the provider's: set it with POST /offers/{id}/intake",
            ));
        }
        check(conn, &data)?;
        if data.provider_id != current.data.provider_id {
            // no silent disclosure (§ 67d SGB X): the participants' data would reach the
            // new provider
            let held = allocations::active_customers(conn, id)?.len();
            if held > 0 {
                return Err(AppError::conflict(
                    "offer_has_participants",
                    format!(
                        "the offer holds {held} active placements: their participants' data would reach \
                         another provider; move it with POST /offers/{{id}}/transfer, which audits it"
                    ),
                ));
            }
        }
        let mut rec = current.clone();
        rec.data = data;
        rec.meta.version += 1;
        rec.meta.updated_at = passgenau_store::records::now();
        repo::update(conn, &rec, current.meta.version)?;
        Ok(rec)
    })
}

/// The route and fields of a transfer's audit entries (the participants' exports list
/// them).
pub const TRANSFER_FIELDS: &str = "provider_id (offer transferred)";

/// Moves the offer, with its active placements, to another provider (admin): an explicit
/// transfer of the participants' data (§ 69 Abs. 1 Nr. 1 SGB X for the new provider's
/// part in the measure), audited as a change of each participant's data, so every one of
/// them shows it in their export and in the audit log. `reason` (1–500 characters) is
/// kept in the offer's audit entries of the transfer.
pub fn transfer(
    store: &Store,
    caller: &Caller,
    route: &str,
    id: OfferId,
    if_match: Option<&[i64]>,
    to: ProviderId,
    reason: &str,
) -> AppResult<(OfferRecord, usize)> {
    let mut c = passgenau_domain::validation::Checker::default();
    c.text("reason", reason, 500);
    check_fields(c.finish())?;
    store.write(|conn| {
        // no placement is made in the offer meanwhile: the list of participants is whole
        allocations::lock_offer(conn, id)?;
        let current = repo::get(conn, id).map_err(missing("offer"))?;
        check_version(if_match, current.meta.version)?;
        if current.data.provider_id == to {
            return Err(AppError::invalid(
                "provider_id",
                "the offer is this provider's already",
            ));
        }
        let mut rec = current.clone();
        rec.data.provider_id = to;
        check(conn, &rec.data)?;
        rec.meta.version += 1;
        rec.meta.updated_at = passgenau_store::records::now();
        repo::update(conn, &rec, current.meta.version)?;
        let people = allocations::active_customers(conn, id)?;
        let mut entries = crate::app::audit::audit_entries(
            caller,
            passgenau_store::audit::Action::Update,
            route,
            people.iter().map(|c| (Some(*c), None)),
        );
        for e in &mut entries {
            e.fields = Some(format!("{TRANSFER_FIELDS}: {}", reason.trim()));
        }
        passgenau_store::audit::append(conn, &entries)?;
        Ok((rec, people.len()))
    })
}

/// What a provider (or an admin) says of its intake.
#[derive(Debug, Clone)]
pub struct IntakeChange {
    pub status: passgenau_domain::offer::IntakeStatus,
    pub reason: Option<String>,
    pub places_now: Option<i32>,
}

/// The offer's provider (or an admin) pauses or resumes its intake and says how many
/// places it can fill now (at most `max_places`). Availability, ranking, cohort runs and
/// placements count with it at once (`OfferData::places_open`); the change is audited
/// and shown on the offer (`intake`: who, when, why).
#[allow(clippy::too_many_arguments)]
pub fn set_intake(
    store: &Store,
    rules: &passgenau_domain::eligibility::RuleBook,
    caller: &Caller,
    route: &str,
    id: OfferId,
    if_match: Option<&[i64]>,
    change: IntakeChange,
    today: chrono::NaiveDate,
) -> AppResult<OfferRecord> {
    if let Some(r) = &change.reason {
        let mut c = passgenau_domain::validation::Checker::default();
        c.text("reason", r, 500);
        check_fields(c.finish())?;
    }
    if change.status == passgenau_domain::offer::IntakeStatus::Paused && change.reason.is_none() {
        return Err(AppError::invalid("reason", "say why the intake is paused"));
    }
    store.write(|conn| {
        // placements of the offer wait: the new capacity holds for the next one
        allocations::lock_offer(conn, id)?;
        let current = repo::get(conn, id).map_err(missing("offer"))?;
        if caller.role == passgenau_domain::user::Role::Provider
            && caller.provider_id != Some(current.data.provider_id)
        {
            // another provider's offer is not shown as existing
            return Err(AppError::NotFound("offer"));
        }
        check_version(if_match, current.meta.version)?;
        if let Some(p) = change.places_now {
            if !(0..=current.data.max_places).contains(&p) {
                return Err(AppError::invalid(
                    "places_now",
                    format!("must be between 0 and max_places ({})", current.data.max_places),
                ));
            }
        }
        let now = passgenau_store::records::now();
        let mut rec = current.clone();
        rec.data.intake = passgenau_domain::offer::Intake {
            status: change.status,
            reason: change.reason.clone(),
            places_now: change.places_now,
            changed_at: Some(now),
            changed_by: Some(caller.username.clone()),
        };
        rec.meta.version += 1;
        rec.meta.updated_at = now;
        repo::update(conn, &rec, current.meta.version)?;
        let status = match change.status {
            passgenau_domain::offer::IntakeStatus::Open => "open",
            passgenau_domain::offer::IntakeStatus::Paused => "paused",
        };
        let mut entry = crate::app::audit::audit_entries(
            caller,
            passgenau_store::audit::Action::Update,
            route,
            [(None, None)],
        );
        for e in &mut entry {
            e.fields = Some(format!(
                "intake of offer {id}: {status}, places_now {}",
                change
                    .places_now
                    .map_or("max_places".to_string(), |p| p.to_string())
            ));
        }
        passgenau_store::audit::append(conn, &entry)?;
        // places opened (resumed, or more places now) go to those waiting first, as a
        // freed place does
        while crate::app::placements::promote_waitlist(conn, rules, caller, &rec, today)?.is_some() {}
        Ok(rec)
    })
}
