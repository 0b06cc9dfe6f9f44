//! What every stored record carries besides its data.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Identity and bookkeeping of a stored record. `version` starts at 1 and grows by one
/// with every change; the API's `ETag` is built from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta<I> {
    pub id: I,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<I> Meta<I> {
    /// A new record, created now.
    pub fn new(id: I, now: DateTime<Utc>) -> Self {
        Self {
            id,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Keyset pagination: at most `limit` rows after the key `after` (exclusive), in key
/// order. Fetches one row more than asked to know whether a next page exists.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: i64,
    pub after: Option<String>,
}

/// A page of results and the key to continue after, if there is more.
#[derive(Debug, Clone)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> PageOf<T> {
    /// Cuts the extra row fetched by a query of `limit + 1` and remembers its key.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&key)
        } else {
            None
        };
        PageOf { items: rows, next }
    }
}

/// Timestamps are stored as UTC without offset, truncated to microseconds (PostgreSQL's
/// precision) so that what is read back equals what was written.
pub fn to_db_time(t: DateTime<Utc>) -> NaiveDateTime {
    let n = t.naive_utc();
    n.with_nanosecond_truncated()
}

pub fn from_db_time(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// "Now" as stored.
pub fn now() -> DateTime<Utc> {
    from_db_time(to_db_time(Utc::now()))
}

trait TruncateMicros {
    fn with_nanosecond_truncated(self) -> Self;
}

impl TruncateMicros for NaiveDateTime {
    fn with_nanosecond_truncated(self) -> Self {
        use chrono::Timelike;
        let micros = self.nanosecond() / 1_000 * 1_000;
        self.with_nanosecond(micros).unwrap_or(self)
    }
}
