//! Saved answers of requests sent with an `Idempotency-Key`, so a retry replays the first
//! answer instead of creating a second record.

use diesel::prelude::*;

use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::records::to_db_time;
use crate::schema::idempotency_keys;

#[derive(Debug, Clone)]
pub struct SavedResponse {
    pub request_hash: String,
    pub status_code: i32,
    pub response_body: String,
    /// The customers the answer shows (IDs, comma-separated), whose replay is audited.
    pub subjects: String,
}

/// Serialises requests with the same key: on PostgreSQL a transaction-scoped advisory
/// lock on the key (the second request waits for the first to commit, then finds its
/// answer); on SQLite the `BEGIN IMMEDIATE` write transaction already serialises.
pub fn lock_key(conn: &mut DbConnection, actor: &str, scope: &str, key: &str) -> StoreResult<()> {
    if let DbConnection::Postgresql(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(format!("{actor}\u{1f}{scope}\u{1f}{key}"))
            .execute(conn)?;
    }
    Ok(())
}

pub fn find(
    conn: &mut DbConnection,
    actor: &str,
    scope: &str,
    key: &str,
) -> StoreResult<Option<SavedResponse>> {
    Ok(idempotency_keys::table
        .find((actor, scope, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status_code,
            idempotency_keys::response_body,
            idempotency_keys::subjects,
        ))
        .first::<(String, i32, String, String)>(conn)
        .optional()?
        .map(
            |(request_hash, status_code, response_body, subjects)| SavedResponse {
                request_hash,
                status_code,
                response_body,
                subjects,
            },
        ))
}

pub fn save(
    conn: &mut DbConnection,
    actor: &str,
    scope: &str,
    key: &str,
    saved: &SavedResponse,
) -> StoreResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::actor.eq(actor),
            idempotency_keys::scope.eq(scope),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(&saved.request_hash),
            idempotency_keys::status_code.eq(saved.status_code),
            idempotency_keys::response_body.eq(&saved.response_body),
            idempotency_keys::subjects.eq(&saved.subjects),
            idempotency_keys::created_at.eq(to_db_time(chrono::Utc::now())),
        ))
        .execute(conn)?;
    Ok(())
}
