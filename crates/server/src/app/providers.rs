//! Providers (*Träger*): list, read, create, update.

use passgenau_domain::ids::ProviderId;
use passgenau_domain::provider::ProviderData;
use passgenau_domain::Validate;
use passgenau_store::providers::{self as repo, ProviderRecord};
use passgenau_store::{Meta, Page, PageOf, Store};

use crate::app::error::{check_fields, check_version, missing, AppResult};
use crate::patch::MergePatch;

pub fn list(store: &Store, name: Option<&str>, page: &Page) -> AppResult<PageOf<ProviderRecord>> {
    store.read(|conn| Ok(repo::list(conn, name, page)?))
}

pub fn get(store: &Store, id: ProviderId) -> AppResult<ProviderRecord> {
    store.read(|conn| repo::get(conn, id).map_err(missing("provider")))
}

/// The checks that need no database.
pub fn precheck(data: &ProviderData) -> AppResult<()> {
    check_fields(data.validate())
}

pub fn create(store: &Store, data: ProviderData) -> AppResult<ProviderRecord> {
    store.write(|conn| {
        let rec = ProviderRecord {
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
    id: ProviderId,
    if_match: Option<&[i64]>,
    patch: MergePatch<ProviderData>,
) -> AppResult<ProviderRecord> {
    store.write(|conn| {
        let current = repo::get(conn, id).map_err(missing("provider"))?;
        check_version(if_match, current.meta.version)?;
        let data: ProviderData = patch.apply(&current.data)?;
        check_fields(data.validate())?;
        let mut rec = current.clone();
        rec.data = data;
        rec.meta.version += 1;
        rec.meta.updated_at = passgenau_store::records::now();
        repo::update(conn, &rec, current.meta.version)?;
        Ok(rec)
    })
}
