//! `Idempotency-Key`: the same key with the same body replays the first answer; with
//! another body it is 422 `idempotency_key_reused`. The key is checked and the answer
//! saved inside the same transaction as the creation, so a retry can never create twice.

use passgenau_store::{idempotency, DbConnection};
use sha2::{Digest, Sha256};

use crate::app::error::AppError;
use crate::identity::Caller;

/// A saved or fresh answer: status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// The customers the body shows: a replay of it is audited as a read of them.
    pub subjects: Vec<passgenau_domain::ids::CustomerId>,
}

pub fn hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// Runs `create` unless the key was seen; must be called inside a write transaction.
pub fn run<E>(
    conn: &mut DbConnection,
    caller: &Caller,
    route: &str,
    key: Option<&str>,
    request_hash: &str,
    create: impl FnOnce(&mut DbConnection) -> Result<Answer, E>,
) -> Result<Answer, E>
where
    E: From<passgenau_store::StoreError> + From<AppError>,
{
    let Some(key) = key else {
        return create(conn);
    };
    idempotency::lock_key(conn, &caller.username, route, key)?;
    if let Some(saved) = idempotency::find(conn, &caller.username, route, key)? {
        if saved.request_hash != request_hash {
            return Err(AppError::KeyReused.into());
        }
        // the replay discloses the stored record again: audited like a read of it
        let subjects: Vec<passgenau_domain::ids::CustomerId> =
            saved.subjects.split(',').filter_map(|s| s.parse().ok()).collect();
        let entries = crate::app::audit::audit_entries(
            caller,
            passgenau_store::audit::Action::Read,
            route,
            subjects.iter().map(|c| (Some(*c), None)),
        );
        passgenau_store::audit::append(conn, &entries)?;
        return Ok(Answer {
            status: u16::try_from(saved.status_code).unwrap_or(200),
            body: saved.response_body,
            subjects,
        });
    }
    let answer = create(conn)?;
    idempotency::save(
        conn,
        &caller.username,
        route,
        key,
        &idempotency::SavedResponse {
            request_hash: request_hash.to_string(),
            status_code: i32::from(answer.status),
            response_body: answer.body.clone(),
            subjects: answer
                .subjects
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        },
    )?;
    Ok(answer)
}
