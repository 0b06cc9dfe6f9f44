//! Instance-wide settings kept in the database, shared by every server instance.

use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::schema::settings;

pub fn get(conn: &mut DbConnection, key: &str) -> StoreResult<Option<String>> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .get_result(conn)
        .optional()?)
}

/// Stores `value` under `key` unless a value is there already, and returns the value that
/// holds afterwards. Two instances racing to create the same setting agree on one value.
pub fn get_or_insert(conn: &mut DbConnection, key: &str, value: &str) -> StoreResult<String> {
    crate::on_backend!(conn, |c| diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value)))
        .on_conflict(settings::key)
        .do_nothing()
        .execute(c))?;
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .get_result(conn)?)
}

/// Sets `key` to `value` if it holds a smaller value (or none) and says whether this call
/// did: of several instances claiming the same value (a day's run of a job), one wins.
pub fn claim(conn: &mut DbConnection, key: &str, value: &str) -> StoreResult<bool> {
    get_or_insert(conn, key, "")?;
    let n = diesel::update(settings::table.find(key).filter(settings::value.lt(value)))
        .set(settings::value.eq(value))
        .execute(conn)?;
    Ok(n == 1)
}
