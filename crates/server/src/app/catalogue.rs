//! The catalogue of instruments (the AMIP 2021's *Produkte*): list, read, add, update.

use passgenau_domain::catalogue::Instrument;
use passgenau_domain::Validate;
use passgenau_store::instruments::{self as repo, InstrumentRecord};
use passgenau_store::{Page, PageOf, Store};

use crate::app::error::{check_fields, check_version, missing, AppError, AppResult};
use crate::patch::MergePatch;

pub fn list(store: &Store, purpose_group: Option<&str>, page: &Page) -> AppResult<PageOf<InstrumentRecord>> {
    store.read(|conn| Ok(repo::list(conn, purpose_group, page)?))
}

/// The whole catalogue (a few dozen instruments), in code order.
pub fn all(
    conn: &mut passgenau_store::DbConnection,
) -> Result<Vec<InstrumentRecord>, passgenau_store::StoreError> {
    Ok(repo::list(
        conn,
        None,
        &Page {
            limit: 10_000,
            after: None,
        },
    )?
    .items)
}

pub fn get(store: &Store, code: &str) -> AppResult<InstrumentRecord> {
    store.read(|conn| repo::get(conn, code).map_err(missing("instrument")))
}

/// The checks that need no database.
pub fn precheck(data: &Instrument) -> AppResult<()> {
    check_fields(data.validate())
}

pub fn create(store: &Store, data: Instrument) -> AppResult<InstrumentRecord> {
    store.write(|conn| {
        let now = passgenau_store::records::now();
        let rec = InstrumentRecord {
            version: 1,
            builtin: false,
            created_at: now,
            updated_at: now,
            data,
        };
        repo::insert(conn, &rec)?;
        Ok(rec)
    })
}

/// Applies a merge patch; the `code` cannot change (clients use it as the key).
pub fn update(
    store: &Store,
    code: &str,
    if_match: Option<&[i64]>,
    patch: MergePatch<Instrument>,
) -> AppResult<InstrumentRecord> {
    store.write(|conn| {
        let current = repo::get(conn, code).map_err(missing("instrument"))?;
        check_version(if_match, current.version)?;
        let data: Instrument = patch.apply(&current.data)?;
        if data.code != current.data.code {
            return Err(AppError::invalid("code", "cannot be changed"));
        }
        check_fields(data.validate())?;
        let rec = InstrumentRecord {
            version: current.version + 1,
            updated_at: passgenau_store::records::now(),
            data,
            ..current.clone()
        };
        repo::update(conn, &rec, current.version)?;
        Ok(rec)
    })
}
