//! Customers: create, read, list, update. Each use case owns its transaction; every read
//! opens the sealed records with the caller's audited access, every change appends its
//! entry in its own transaction.

use chrono::NaiveDate;
use passgenau_domain::household::HouseholdMember;
use passgenau_domain::ids::{CustomerId, HouseholdId};
use passgenau_domain::search::{MatchKind, Query};
use passgenau_domain::{CustomerData, FieldError, Validate};
use passgenau_store::audit::{self, Action};
use passgenau_store::customers::{self as repo, CustomerFilter, CustomerRecord};
use passgenau_store::{households, instruments, DbConnection, Meta, Page, PageOf, Store, StoreError};

use crate::app::audit::Audited;
use crate::app::audit::{access, audit_entries};
use crate::app::error::{check_fields, check_version, missing, AppError, AppResult};
use crate::app::idempotency::{self, Answer};
use crate::identity::Caller;
use crate::patch::MergePatch;

/// A customer with the members of their household (the target groups read them).
pub type WithHousehold = (CustomerRecord, Vec<HouseholdMember>);

/// A page of customers with the members of their households, by household.
pub type PageWithHouseholds = (
    PageOf<CustomerRecord>,
    std::collections::HashMap<HouseholdId, Vec<HouseholdMember>>,
);

/// What needs the day and the catalogue beside the record's own checks (`Validate`): no
/// date of birth or prior participation in the future, prior participations of known
/// instruments (each code looked up once).
fn day_errors(conn: &mut DbConnection, data: &CustomerData, today: NaiveDate) -> AppResult<Vec<FieldError>> {
    let mut codes: Vec<&str> = data
        .prior_participations
        .iter()
        .map(|p| p.instrument_code.as_str())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let mut known = Vec::with_capacity(codes.len());
    for code in codes {
        match instruments::get(conn, code) {
            Ok(_) => known.push(code),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(data.validate_on(today, &|code| known.contains(&code)))
}

/// The checks that need no database, so a malformed record opens no transaction.
pub fn precheck(data: &CustomerData, today: NaiveDate) -> AppResult<()> {
    let mut errors = data.validate();
    errors.extend(passgenau_domain::customer::check_not_future(
        "date_of_birth",
        data.date_of_birth,
        today,
    ));
    check_fields(errors)
}

/// The members of the customer's household (none without one).
pub fn members_of(conn: &mut DbConnection, rec: &CustomerRecord) -> Result<Vec<HouseholdMember>, StoreError> {
    load_members(conn, rec)
}

fn load_members(conn: &mut DbConnection, rec: &CustomerRecord) -> Result<Vec<HouseholdMember>, StoreError> {
    match rec.household_id {
        Some(h) => households::members(conn, h),
        None => Ok(Vec::new()),
    }
}

/// The recorded people `data` probably is (same date of birth, names alike:
/// [`passgenau_domain::search::probably_same`]), as (ID, customer number), from the
/// duplicate-check index.
pub fn probable_duplicates(
    conn: &mut DbConnection,
    data: &CustomerData,
) -> AppResult<Vec<(CustomerId, String)>> {
    use passgenau_store::customer_search as index;
    index::lock_birthdays(conn, &[data.date_of_birth])?;
    let keys = passgenau_domain::search::birth_keys(data.date_of_birth, &data.last_name);
    let mut ids: Vec<CustomerId> = index::under_birth_keys(conn, &keys)?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let names = passgenau_domain::search::name_keys(&data.first_name, &data.last_name);
    let mut found: Vec<(CustomerId, String)> = index::keys_of(conn, &ids)?
        .into_iter()
        .filter(|(_, (_, k))| passgenau_domain::search::probably_same(&names, k))
        .map(|(id, (number, _))| (id, number))
        .collect();
    found.sort();
    Ok(found)
}

/// Only an admin sets or lifts a legal hold (it suspends an erasure the law requires
/// otherwise: § 84 Abs. 3 SGB X).
pub fn check_legal_hold(caller: &Caller, before: bool, after: bool) -> AppResult<()> {
    if before != after && caller.role != passgenau_domain::user::Role::Admin {
        return Err(AppError::Forbidden(
            "only an admin sets or lifts legal_hold".into(),
        ));
    }
    Ok(())
}

/// The audit's note of a record made despite probable duplicates.
pub const CONFIRMED_DISTINCT: &str = "confirm_distinct_person";

/// Records a new customer once per `Idempotency-Key` (a retry gets the first answer,
/// which `render` makes of the record). A probable duplicate of a recorded person is
/// refused with the candidates unless `confirm_distinct` says the caller checked; the
/// create's audit entry then names `confirm_distinct_person`.
#[allow(clippy::too_many_arguments)]
pub fn create(
    store: &Store,
    caller: &Caller,
    route: &str,
    key: Option<&str>,
    request_hash: &str,
    data: CustomerData,
    confirm_distinct: bool,
    today: NaiveDate,
    render: impl FnOnce(&CustomerRecord) -> String,
) -> AppResult<Answer> {
    check_legal_hold(caller, false, data.legal_hold)?;
    store.write(|conn| {
        idempotency::run(conn, caller, route, key, request_hash, |conn| {
            check_fields(day_errors(conn, &data, today)?)?;
            let found = probable_duplicates(conn, &data)?;
            if !found.is_empty() && !confirm_distinct {
                return Err(AppError::PossibleDuplicate(found));
            }
            let rec = CustomerRecord {
                meta: Meta::new(passgenau_domain::ids::new_id(), passgenau_store::records::now()),
                household_id: None,
                data,
                closure: None,
            };
            repo::insert(conn, &rec)?;
            let mut entries = audit_entries(caller, Action::Create, route, [(Some(rec.meta.id), None)]);
            if !found.is_empty() {
                for e in &mut entries {
                    e.fields = Some(CONFIRMED_DISTINCT.into());
                }
            }
            audit::append(conn, &entries)?;
            Ok(Answer {
                status: 201,
                body: render(&rec),
                subjects: vec![rec.meta.id],
            })
        })
    })
}

/// One customer, audited as read.
pub fn get(
    store: &Store,
    audit: &mut Audited,
    caller: &Caller,
    route: &str,
    id: CustomerId,
) -> AppResult<WithHousehold> {
    let read = access(caller, Action::Read, route);
    store.read(|conn| {
        let rec = audit.open(store, &read, repo::get(conn, id).map_err(missing("customer"))?);
        let members = load_members(conn, &rec)?;
        Ok((rec, members))
    })
}

/// A page of customers, each audited as read (only those returned).
pub fn list(
    store: &Store,
    audit: &mut Audited,
    caller: &Caller,
    route: &str,
    filter: &CustomerFilter,
    page: &Page,
) -> AppResult<PageWithHouseholds> {
    let read = access(caller, Action::Read, route);
    store.read(|conn| {
        let page = audit.open(store, &read, repo::list(conn, filter, page)?);
        let hh: Vec<HouseholdId> = page.items.iter().filter_map(|c| c.household_id).collect();
        let members = households::members_by_household(conn, &hh)?;
        Ok((page, members))
    })
}

/// Candidates a search takes from one lookup, at most (per answer wanted: twice as many,
/// so that the best of a kind are ordered by name among more than the answer).
pub const SEARCH_CANDIDATES: i64 = 2_000;

/// Customers a search finds, best first, each with how it matched.
pub type Found = (
    Vec<(CustomerRecord, MatchKind)>,
    std::collections::HashMap<HouseholdId, Vec<HouseholdMember>>,
);

/// The customers matching `query` and `filter`, best first (`MatchKind` order, then last
/// and first name among the candidates), at most `limit`; only those are audited as
/// read. Candidates come from the name index in the order of the match kinds: the
/// number; every word exactly; every word as a beginning; every word's sound. A later
/// lookup is skipped once the ones before found `limit` customers it could not beat; each
/// takes the oldest `2 × limit` records it finds. The domain decides which candidates
/// match and how (`passgenau_domain::search`). A query that mixes a beginning of one name
/// with the sound of another finds nobody.
pub fn search(
    store: &Store,
    audit: &mut Audited,
    caller: &Caller,
    route: &str,
    query: &Query,
    filter: &CustomerFilter,
    limit: usize,
) -> AppResult<Found> {
    use passgenau_store::customer_search::{self as index, Lookup};
    let read = access(caller, Action::Read, route);
    let per_lookup = (limit as i64).saturating_mul(2).clamp(1, SEARCH_CANDIDATES);
    store.read(|conn| {
        let mut lookups = vec![(Lookup::Number(&query.raw), MatchKind::Number)];
        if !query.words.is_empty() {
            lookups.push((Lookup::Words(&query.words), MatchKind::Exact));
            lookups.push((Lookup::Prefixes(&query.words), MatchKind::Prefix));
            if query.sounds.iter().all(|s| !s.is_empty()) {
                lookups.push((Lookup::Sounds(&query.sounds), MatchKind::Phonetic));
            }
        }
        let mut ranked: Vec<(MatchKind, String, String, CustomerId)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (lookup, best) in lookups {
            // what this lookup can add is no better than `best`
            if ranked.iter().filter(|r| r.0 <= best).count() >= limit {
                break;
            }
            let ids: Vec<CustomerId> = index::candidates(conn, lookup, filter, per_lookup)?
                .into_iter()
                .filter(|id| seen.insert(*id))
                .collect();
            for (id, (number, keys)) in index::keys_of(conn, &ids)? {
                if let Some(kind) = query.matches(&number, &keys) {
                    ranked.push((kind, keys.last, keys.first, id));
                }
            }
        }
        ranked.sort();
        ranked.truncate(limit);
        let ids: Vec<CustomerId> = ranked.iter().map(|r| r.3).collect();
        let records = audit.open(store, &read, repo::get_many(conn, &ids)?);
        let mut by_id: std::collections::HashMap<CustomerId, CustomerRecord> =
            records.into_iter().map(|r| (r.meta.id, r)).collect();
        let found: Vec<(CustomerRecord, MatchKind)> = ranked
            .iter()
            .filter_map(|r| by_id.remove(&r.3).map(|rec| (rec, r.0)))
            .collect();
        let hh: Vec<HouseholdId> = found.iter().filter_map(|(c, _)| c.household_id).collect();
        let members = households::members_by_household(conn, &hh)?;
        Ok((found, members))
    })
}

/// Marks the name index complete: every write of a customer keeps it so from then on.
const NAME_INDEX_COMPLETE: &str = "customer_name_words_complete";

/// Writes the name index of customers recorded before it existed (at start-up, once:
/// looking for such customers reads every customer, 0.8 s for 200,000).
pub fn index_names(store: &Store) -> AppResult<u64> {
    use passgenau_store::customer_search as index;
    if store
        .read(|conn| passgenau_store::settings::get(conn, NAME_INDEX_COMPLETE))?
        .is_some()
    {
        return Ok(0);
    }
    let mut after: Option<String> = None;
    let mut written = 0u64;
    loop {
        let batch = store.read(|conn| index::unindexed(conn, after.as_deref(), 5_000))?;
        let Some(last) = batch.last() else {
            store.write(|conn| passgenau_store::settings::get_or_insert(conn, NAME_INDEX_COMPLETE, "1"))?;
            return Ok(written);
        };
        after = Some(last.0.to_string());
        let people: Vec<_> = batch
            .iter()
            .map(|(id, f, l, d)| (*id, f.as_str(), l.as_str(), *d))
            .collect();
        store.write(|conn| index::write(conn, &people))?;
        written += people.len() as u64;
    }
}

/// Names of the top-level fields that differ between two versions of a record.
pub(crate) fn changed_fields(before: &CustomerData, after: &CustomerData) -> String {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return String::new();
    };
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Applies a merge patch to the current version (`if_match`: the versions the caller
/// read, if it said); the result is validated as a whole. Audited as one update naming
/// the changed fields.
#[allow(clippy::too_many_arguments)]
pub fn update(
    store: &Store,
    caller: &Caller,
    route: &str,
    id: CustomerId,
    if_match: Option<&[i64]>,
    patch: MergePatch<CustomerData>,
    today: NaiveDate,
) -> AppResult<WithHousehold> {
    store.write(|conn| {
        let sealed = repo::get(conn, id).map_err(missing("customer"))?;
        sealed.change(conn, &access(caller, Action::Update, route), |conn, current| {
            check_version(if_match, current.meta.version)?;
            let data: CustomerData = patch.apply(&current.data)?;
            check_legal_hold(caller, current.data.legal_hold, data.legal_hold)?;
            let mut errors = data.validate();
            errors.extend(day_errors(conn, &data, today)?);
            check_fields(errors)?;
            let fields = changed_fields(&current.data, &data);
            let mut rec = current.clone();
            rec.data = data;
            rec.meta.version += 1;
            rec.meta.updated_at = passgenau_store::records::now();
            repo::update(conn, &rec, current.meta.version)?;
            let members = load_members(conn, &rec)?;
            Ok(((rec, members), Some(fields)))
        })
    })
}
