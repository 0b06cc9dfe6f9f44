//! Identifiers. Every record is identified by a UUIDv7 (time-ordered, so keyset
//! pagination by ID is also pagination by creation time).

use uuid::Uuid;

/// A fresh, time-ordered identifier for a new record.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
