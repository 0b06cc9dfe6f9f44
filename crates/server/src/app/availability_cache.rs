//! Answers of `GET /availability`, kept for up to [`TTL`] per query. Providers' systems
//! poll this route far more often than places change; the answer carries no personal
//! data and is the same for every caller. Every change made through this instance that
//! can move a count (placements, transitions, waiting lists, offers) clears it at once;
//! changes made through another instance show within [`TTL`]. Reserving a place never
//! relies on it: capacity is checked again inside the placement transaction.
//!
//! When an answer expires, the requests for it do not all compute it again: the first
//! computes it and the others wait for that answer ([`AvailabilityCache::flight`]), so
//! a busy server runs the query once per second, not once per waiting client.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(1);
const MAX_ENTRIES: usize = 1_000;

#[derive(Clone)]
pub struct Cached {
    pub body: actix_web::web::Bytes,
    pub etag: String,
}

#[derive(Default)]
pub struct AvailabilityCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, (Instant, u64, Cached)>>,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl AvailabilityCache {
    /// Something changed here: drop every answer.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn get(&self, key: &str) -> Option<Cached> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (at, generation, c) = entries.get(key)?;
        (at.elapsed() < TTL && *generation == self.generation()).then(|| c.clone())
    }

    /// The lock of the computation of `key`: whoever holds it computes, the others wait
    /// and then find the answer in the cache. Locks of keys nobody waits for are dropped.
    pub fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights.len() >= MAX_ENTRIES {
            flights.retain(|_, f| Arc::strong_count(f) > 1);
        }
        flights.entry(key.to_string()).or_default().clone()
    }

    /// Stores an answer computed at `generation` (an older one is never stored).
    pub fn put(&self, key: String, generation: u64, c: Cached) {
        if generation != self.generation() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (at, g, _)| at.elapsed() < TTL && *g == generation);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), generation, c));
    }
}
