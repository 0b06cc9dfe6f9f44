//! Offers with planned places: list, read, create, update.

use passgenau_domain::ids::OfferId;
use passgenau_domain::offer::OfferData;
use passgenau_domain::{FieldError, Validate};
use passgenau_store::offers::{self as repo, OfferFilter, OfferRecord};
use passgenau_store::{instruments, providers, DbConnection, Meta, Page, PageOf, Store, StoreError};

use crate::app::error::{check_fields, check_version, missing, AppResult};
use crate::patch::MergePatch;

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
        check(conn, &data)?;
        let mut rec = current.clone();
        rec.data = data;
        rec.meta.version += 1;
        rec.meta.updated_at = passgenau_store::records::now();
        repo::update(conn, &rec, current.meta.version)?;
        Ok(rec)
    })
}
