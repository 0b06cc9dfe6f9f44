//! The audit log's seal: a chain of HMACs over every entry, so that an entry changed,
//! inserted among the sealed ones or removed after it was sealed is found
//! (`passgenau audit verify`; docs/data-protection.md, "The audit log").
//!
//! Entries are written unsealed — by the group commit of reads and inside the writes'
//! own transactions, on every instance — and a sealer (every instance runs one; a lock
//! lets one at a time extend the chain) gives each unsealed entry, oldest first, the next
//! place in the chain and the seal `HMAC(key, previous seal ‖ the entry's columns)`. So
//! the writers keep their throughput (the seal costs them nothing), and the chain has one
//! order however many instances write. An entry is sealed within one sealing interval
//! (`PASSGENAU_AUDIT_SEAL_S`, default 10 s) of its commit.
//!
//! The key (`PASSGENAU_AUDIT_KEY_FILE`, else kept in the database) is what makes the
//! chain evidence: whoever may change rows but does not know the key cannot make a
//! changed chain verify. Kept in the database it protects against changes by whoever
//! cannot read the settings table only; kept in a file outside it, against the database's
//! administrators too. Removing the newest entries together with nothing else shortens
//! the chain to an earlier valid one: `verify` prints the head (place and seal), and
//! `--expect-head` checks that a head noted earlier is still in the chain.
//!
//! Erasure (`app::erasure`) changes no audit entry: entries name people only by their
//! customer and household IDs, which stay as the pseudonyms the placements keep, and the
//! routes are patterns without values. So the chain stays verifiable across erasures.

use hmac::{Hmac, Mac};
use passgenau_store::audit::{self, StoredEntry};
use passgenau_store::Store;
use sha2::Sha256;

use crate::app::error::AppResult;

/// Entries sealed per transaction: a short hold of SQLite's write lock.
const SEAL_CHUNK: i64 = 1_000;
/// Entries read per step of the verification.
const VERIFY_CHUNK: i64 = 10_000;

/// Separates the columns of an entry in what is sealed; no column may hold it (the
/// routes, names and IDs are printable text).
const SEP: u8 = 0x1f;
/// Stands for an empty (NULL) column, which differs from an empty text.
const NULL: u8 = 0x00;

fn push(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        Some(s) => out.extend_from_slice(s.as_bytes()),
        None => out.push(NULL),
    }
    out.push(SEP);
}

/// The seal of `entry` after the seal `prev` ("" before the first entry).
fn link(key: &[u8], prev: &str, entry: &StoredEntry) -> String {
    let mut bytes = Vec::with_capacity(256);
    push(&mut bytes, Some(prev));
    push(&mut bytes, Some(&entry.id));
    push(
        &mut bytes,
        Some(&entry.at.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
    );
    push(&mut bytes, Some(&entry.actor));
    push(&mut bytes, Some(&entry.role));
    push(&mut bytes, Some(&entry.action));
    push(&mut bytes, Some(&entry.route));
    push(&mut bytes, entry.customer_id.as_deref());
    push(&mut bytes, entry.household_id.as_deref());
    push(&mut bytes, entry.fields.as_deref());
    push(&mut bytes, entry.account_id.as_deref());
    // HMAC takes a key of any length
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(&bytes);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether the head's seal (at `pos`) is what this key makes of the entry before it.
fn head_is_ours(
    conn: &mut passgenau_store::DbConnection,
    key: &[u8],
    pos: i64,
    head: &str,
) -> Result<bool, passgenau_store::StoreError> {
    let rows = audit::sealed_after(conn, (pos - 2).max(0), 2)?;
    let (before, last) = match rows.as_slice() {
        [a, b] => (a.seal.clone().unwrap_or_default(), b),
        [b] => (String::new(), b),
        _ => return Ok(false),
    };
    Ok(last.seal_pos == Some(pos) && link(key, &before, last) == head)
}

/// Seals every entry written so far; returns how many it sealed.
pub fn seal_pending(store: &Store, key: &[u8]) -> AppResult<u64> {
    let mut sealed = 0u64;
    loop {
        let n = store.write(|conn| {
            audit::lock_seal(conn)?;
            let (mut pos, mut prev) = audit::seal_head(conn)?.unwrap_or((0, String::new()));
            if pos > 0 && !head_is_ours(conn, key, pos, &prev)? {
                // an instance with another key (or a changed head): extending the chain
                // would make every later entry fail verification
                return Err(crate::app::AppError::Internal(
                    "the audit chain's head is not sealed with this instance's audit key \
                     (PASSGENAU_AUDIT_KEY_FILE must be the same on every instance)",
                ));
            }
            let rows = audit::unsealed(conn, SEAL_CHUNK)?;
            for row in &rows {
                let seal = link(key, &prev, row);
                pos += 1;
                if audit::set_seal(conn, &row.id, pos, &seal)? {
                    prev = seal;
                } else {
                    pos -= 1;
                }
            }
            Ok::<_, crate::app::AppError>(rows.len() as i64)
        })?;
        sealed += n as u64;
        if n < SEAL_CHUNK {
            return Ok(sealed);
        }
    }
}

/// The first break in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The entry's columns (or its seal) are not what was sealed: changed, or inserted
    /// with a forged place.
    Changed { pos: i64, id: String },
    /// The entry at `pos` is gone; `after` is the entry before it.
    Removed { pos: i64, after: Option<String> },
    /// The head noted earlier (`--expect-head`) is not in the chain: entries after it were
    /// removed, or the chain was rewritten.
    HeadMissing { pos: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Changed { pos, id } => {
                write!(f, "entry {id} (place {pos}) was changed after it was sealed")
            }
            Break::Removed { pos, after: Some(a) } => {
                write!(f, "the entry at place {pos}, after entry {a}, was removed")
            }
            Break::Removed { pos, after: None } => {
                write!(f, "the entry at place {pos}, the first one, was removed")
            }
            Break::HeadMissing { pos } => write!(f, "the expected head at place {pos} is not in the chain"),
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Sealed entries checked.
    pub sealed: u64,
    /// The last sealed entry's place and seal: note it to check later with `expect_head`.
    pub head: Option<(i64, String)>,
    /// Entries not sealed yet (written within the last sealing interval, or while no
    /// server ran), and the oldest one's time.
    pub unsealed: i64,
    pub oldest_unsealed: Option<chrono::DateTime<chrono::Utc>>,
    pub first_break: Option<Break>,
}

/// Walks the whole chain in order and names its first break, if any.
pub fn verify(store: &Store, key: &[u8], expect_head: Option<(i64, &str)>) -> AppResult<Verification> {
    let mut prev = String::new();
    let mut pos = 0i64;
    let mut last_id: Option<String> = None;
    let mut first_break = None;
    let mut head_seen = expect_head.is_none();
    'walk: loop {
        let rows = store.read(|conn| audit::sealed_after(conn, pos, VERIFY_CHUNK))?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let at = row.seal_pos.unwrap_or_default();
            if at != pos + 1 {
                first_break = Some(Break::Removed {
                    pos: pos + 1,
                    after: last_id.clone(),
                });
                break 'walk;
            }
            let seal = link(key, &prev, row);
            if row.seal.as_deref() != Some(seal.as_str()) {
                first_break = Some(Break::Changed {
                    pos: at,
                    id: row.id.clone(),
                });
                break 'walk;
            }
            if let Some((p, s)) = expect_head {
                if p == at && s == seal {
                    head_seen = true;
                }
            }
            pos = at;
            prev = seal;
            last_id = Some(row.id.clone());
        }
    }
    if first_break.is_none() && !head_seen {
        first_break = expect_head.map(|(p, _)| Break::HeadMissing { pos: p });
    }
    let (unsealed, oldest_unsealed) = store.read(audit::unsealed_summary)?;
    Ok(Verification {
        sealed: pos as u64,
        head: (pos > 0).then_some((pos, prev)),
        unsealed,
        oldest_unsealed,
        first_break,
    })
}

/// The sealing interval: `PASSGENAU_AUDIT_SEAL_S` seconds (1–60, default 10).
pub fn interval_from_env() -> Result<std::time::Duration, String> {
    match std::env::var("PASSGENAU_AUDIT_SEAL_S")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        None | Some("") => Ok(std::time::Duration::from_secs(10)),
        Some(v) => match v.parse::<u64>() {
            Ok(s @ 1..=60) => Ok(std::time::Duration::from_secs(s)),
            _ => Err(format!(
                "PASSGENAU_AUDIT_SEAL_S: {v:?} is not a number of seconds from 1 to 60"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> StoredEntry {
        StoredEntry {
            id: id.into(),
            at: chrono::NaiveDate::from_ymd_opt(2026, 12, 3)
                .and_then(|d| d.and_hms_micro_opt(10, 0, 0, 123_456))
                .unwrap_or_default(),
            actor: "anna".into(),
            role: "specialist".into(),
            action: "read".into(),
            route: "GET /api/v1/customers/{id}".into(),
            customer_id: Some("c1".into()),
            household_id: None,
            fields: None,
            account_id: None,
            seal_pos: None,
            seal: None,
        }
    }

    #[test]
    fn every_column_and_the_previous_seal_count() {
        let key = b"k".repeat(32);
        let base = link(&key, "", &entry("a"));
        assert_eq!(base, link(&key, "", &entry("a")));
        assert_ne!(base, link(&key, "x", &entry("a")));
        assert_ne!(base, link(b"other key of 32 bytes at least!!", "", &entry("a")));
        let mut e = entry("a");
        e.household_id = Some(String::new());
        assert_ne!(base, link(&key, "", &e), "NULL and empty text differ");
        let mut e = entry("a");
        e.action = "update".into();
        assert_ne!(base, link(&key, "", &e));
        let mut e = entry("a");
        e.at += chrono::Duration::microseconds(1);
        assert_ne!(base, link(&key, "", &e));
    }
}
