//! The name-search index of customers: every word of a first and last name, folded, and
//! its sound (`passgenau_domain::search`), written with the customer. The store finds
//! candidates by index; which of them match and how well is decided in the domain.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use passgenau_domain::ids::{CustomerId, HouseholdId};
use passgenau_domain::search::{birth_keys, cologne, fold, NameKeys};

use crate::codec::id_from_str;
use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::schema::{customer_birth_keys as b, customer_name_words as w, customers};

#[derive(Insertable)]
#[diesel(table_name = w)]
struct WordRow {
    customer_id: String,
    part: &'static str,
    word: String,
    sound: String,
}

fn rows_of(id: CustomerId, first_name: &str, last_name: &str) -> Vec<WordRow> {
    let mut rows: Vec<WordRow> = Vec::new();
    for (part, name) in [("first", first_name), ("last", last_name)] {
        for word in fold(name).split(' ').filter(|x| !x.is_empty()) {
            if rows.iter().any(|r| r.part == part && r.word == word) {
                continue;
            }
            rows.push(WordRow {
                customer_id: id.to_string(),
                part,
                sound: cologne(word),
                word: word.to_string(),
            });
        }
    }
    rows
}

/// Takes a customer out of the indexes (a merged duplicate).
pub fn forget(conn: &mut DbConnection, id: CustomerId) -> StoreResult<()> {
    diesel::delete(w::table.filter(w::customer_id.eq(id.to_string()))).execute(conn)?;
    diesel::delete(b::table.filter(b::customer_id.eq(id.to_string()))).execute(conn)?;
    Ok(())
}

/// Serialises the records of people born on these days until the transaction ends
/// (PostgreSQL: transaction-scoped advisory locks, taken in one statement and in date
/// order, so two writers cannot deadlock; SQLite has one writer), so two offices
/// recording one person at once cannot both pass the duplicate check.
pub fn lock_birthdays(conn: &mut DbConnection, dates: &[NaiveDate]) -> StoreResult<()> {
    if let DbConnection::Postgresql(pg) = conn {
        let mut keys: Vec<String> = dates.iter().map(|d| format!("born\u{1f}{d}")).collect();
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            return Ok(());
        }
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) \
             FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) AS sorted",
        )
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(keys)
        .execute(pg)?;
    }
    Ok(())
}

/// The customers under these duplicate-check keys
/// (`passgenau_domain::search::birth_keys`), as (key, customer): whom a new record is
/// compared with. Tombstones are not in that index.
pub fn under_birth_keys(conn: &mut DbConnection, keys: &[String]) -> StoreResult<Vec<(String, CustomerId)>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(500) {
        for (key, id) in b::table
            .filter(b::birth_key.eq_any(chunk))
            .select((b::birth_key, b::customer_id))
            .load::<(String, String)>(conn)?
        {
            out.push((key, id_from_str(&id)?));
        }
    }
    Ok(out)
}

/// Whom the indexes are written for: ID, first and last name, date of birth.
pub type Indexed<'a> = (CustomerId, &'a str, &'a str, NaiveDate);

#[derive(Insertable)]
#[diesel(table_name = b)]
struct BirthKeyRow {
    birth_key: String,
    customer_id: String,
}

/// Writes the name and duplicate-check indexes of these customers anew (with their
/// change).
pub fn write(conn: &mut DbConnection, people: &[Indexed<'_>]) -> StoreResult<()> {
    let ids: Vec<String> = people.iter().map(|p| p.0.to_string()).collect();
    for chunk in ids.chunks(500) {
        diesel::delete(w::table.filter(w::customer_id.eq_any(chunk))).execute(conn)?;
        diesel::delete(b::table.filter(b::customer_id.eq_any(chunk))).execute(conn)?;
    }
    insert(conn, people)
}

/// Writes the indexes of customers who have none yet (with their create).
pub fn insert(conn: &mut DbConnection, people: &[Indexed<'_>]) -> StoreResult<()> {
    let rows: Vec<WordRow> = people
        .iter()
        .flat_map(|(id, first, last, _)| rows_of(*id, first, last))
        .collect();
    crate::insert_rows!(&mut *conn, w::table, &rows, 2_000)?;
    let keys: Vec<BirthKeyRow> = people
        .iter()
        .flat_map(|(id, _, last, born)| {
            birth_keys(*born, last).into_iter().map(move |k| BirthKeyRow {
                birth_key: k,
                customer_id: id.to_string(),
            })
        })
        .collect();
    crate::insert_rows!(&mut *conn, b::table, &keys, 5_000)?;
    Ok(())
}

/// Customers after `after` (by ID) that have no index yet, at most `limit`: ID, names
/// and date of birth, for the start-up that writes it.
pub fn unindexed(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<(CustomerId, String, String, NaiveDate)>> {
    let mut q = customers::table
        .filter(diesel::dsl::not(diesel::dsl::exists(
            w::table.filter(w::customer_id.eq(customers::id)),
        )))
        .filter(customers::merged_into.is_null())
        .filter(customers::erased_at.is_null())
        .select((
            customers::id,
            customers::first_name,
            customers::last_name,
            customers::date_of_birth,
        ))
        .order(customers::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(customers::id.gt(a.to_string()));
    }
    q.load::<(String, String, String, NaiveDate)>(conn)?
        .into_iter()
        .map(|(id, f, l, d)| Ok((id_from_str(&id)?, f, l, d)))
        .collect()
}

/// Which index entries a lookup takes: every word given must be there.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    /// These words, exactly.
    Words(&'a [String]),
    /// Words beginning with each of these.
    Prefixes(&'a [String]),
    /// Words with each of these sounds.
    Sounds(&'a [String]),
    /// The customer number, as typed or in upper or lower case.
    Number(&'a str),
}

/// Filters of `GET /customers`; all exact matches on indexed columns.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub date_of_birth: Option<NaiveDate>,
    pub customer_number: Option<String>,
    pub last_name: Option<String>,
    pub district: Option<String>,
    pub postal_code: Option<String>,
    pub household_id: Option<HouseholdId>,
}

/// Narrows a boxed query over `customers` (joined or not) by the list's filters.
macro_rules! filtered {
    ($q:ident, $filter:expr) => {
        $q = $q.filter(customers::merged_into.is_null());
        $q = $q.filter(customers::erased_at.is_null());
        if let Some(d) = $filter.date_of_birth {
            $q = $q.filter(customers::date_of_birth.eq(d));
        }
        if let Some(v) = &$filter.customer_number {
            $q = $q.filter(customers::customer_number.eq(v.clone()));
        }
        if let Some(v) = &$filter.last_name {
            $q = $q.filter(customers::last_name.eq(v.clone()));
        }
        if let Some(v) = &$filter.district {
            $q = $q.filter(customers::district.eq(v.clone()));
        }
        if let Some(v) = &$filter.postal_code {
            $q = $q.filter(customers::postal_code.eq(v.clone()));
        }
        if let Some(h) = $filter.household_id {
            $q = $q.filter(customers::household_id.eq(h.to_string()));
        }
    };
}

/// Customers that pass `filter` and whose index has what the lookup asks for, at most
/// `limit`, in the index's order. The scan runs along the index of the first word (or
/// sound) and stops at `limit`; further words are probed per customer, the filters on the
/// customer's row.
pub fn candidates(
    conn: &mut DbConnection,
    lookup: Lookup<'_>,
    filter: &CustomerFilter,
    limit: i64,
) -> StoreResult<Vec<CustomerId>> {
    use diesel::dsl::exists;
    let (first, rest): (&String, &[String]) = match lookup {
        Lookup::Number(n) => {
            let variants = vec![n.to_string(), n.to_uppercase(), n.to_lowercase()];
            let mut q = customers::table
                .filter(customers::customer_number.eq_any(variants))
                .select(customers::id)
                .into_boxed();
            filtered!(q, filter);
            return q
                .limit(limit)
                .load::<String>(conn)?
                .iter()
                .map(|id| id_from_str(id))
                .collect();
        }
        Lookup::Words(words) | Lookup::Prefixes(words) | Lookup::Sounds(words) => match words.split_first() {
            Some(split) => split,
            None => return Ok(Vec::new()),
        },
    };
    let mut q = w::table
        .inner_join(customers::table)
        .select(w::customer_id)
        .into_boxed();
    q = match lookup {
        Lookup::Words(_) => q.filter(w::word.eq(first.clone())),
        // folded words are ASCII letters and digits: all below DEL
        Lookup::Prefixes(_) => q
            .filter(w::word.ge(first.clone()))
            .filter(w::word.lt(format!("{first}\u{7f}"))),
        _ => q.filter(w::sound.eq(first.clone())),
    };
    for more in rest {
        let other = diesel::alias!(crate::schema::customer_name_words as other);
        let same = other.field(w::customer_id).eq(w::customer_id);
        q = match lookup {
            Lookup::Words(_) => q.filter(exists(
                other.filter(same).filter(other.field(w::word).eq(more.clone())),
            )),
            Lookup::Prefixes(_) => q.filter(exists(
                other
                    .filter(same)
                    .filter(other.field(w::word).ge(more.clone()))
                    .filter(other.field(w::word).lt(format!("{more}\u{7f}"))),
            )),
            _ => q.filter(exists(
                other.filter(same).filter(other.field(w::sound).eq(more.clone())),
            )),
        };
    }
    filtered!(q, filter);
    let mut ids: Vec<CustomerId> = q
        .limit(limit)
        .load::<String>(conn)?
        .iter()
        .map(|id| id_from_str(id))
        .collect::<StoreResult<_>>()?;
    // a customer whose first and last name share the word comes twice
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The folded names of customers and their customer numbers, from the index: what the
/// ranking compares (never answered as such).
pub fn keys_of(
    conn: &mut DbConnection,
    ids: &[CustomerId],
) -> StoreResult<HashMap<CustomerId, (String, NameKeys)>> {
    let mut out: HashMap<CustomerId, (String, NameKeys)> = HashMap::new();
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    for chunk in keys.chunks(500) {
        let numbers = customers::table
            .filter(customers::id.eq_any(chunk))
            .select((customers::id, customers::customer_number))
            .load::<(String, String)>(conn)?;
        for (id, number) in numbers {
            out.insert(id_from_str(&id)?, (number, NameKeys::default()));
        }
        let words = w::table
            .filter(w::customer_id.eq_any(chunk))
            .select((w::customer_id, w::part, w::word, w::sound))
            .load::<(String, String, String, String)>(conn)?;
        for (id, part, word, sound) in words {
            let Some((_, k)) = out.get_mut(&id_from_str(&id)?) else {
                continue;
            };
            let (names, sounds) = if part == "first" {
                (&mut k.first, &mut k.first_sound)
            } else {
                (&mut k.last, &mut k.last_sound)
            };
            for (into, add) in [(names, word), (sounds, sound)] {
                if !into.is_empty() {
                    into.push(' ');
                }
                into.push_str(&add);
            }
        }
    }
    Ok(out)
}
