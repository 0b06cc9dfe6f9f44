//! A short-lived in-memory snapshot of the open offers, their providers and occupancy,
//! shared by the recommendation requests of one instance. Ranking reads every open offer;
//! loading 2,000 of them per request would dominate its cost. The snapshot is at most
//! [`SNAPSHOT_TTL`] old: a recommendation may show a place that was taken a moment ago,
//! which is harmless because reserving checks capacity again inside its transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use passgenau_store::error::StoreResult;
use passgenau_store::offers::{OfferFilter, OfferRecord};
use passgenau_store::providers::ProviderRecord;
use passgenau_store::{allocations, offers, providers, DbConnection};
use uuid::Uuid;

pub const SNAPSHOT_TTL: Duration = Duration::from_secs(1);

pub struct Snapshot {
    pub taken: Instant,
    pub day: NaiveDate,
    pub offers: Vec<OfferRecord>,
    pub providers: HashMap<Uuid, ProviderRecord>,
    pub active: HashMap<Uuid, i64>,
}

impl Snapshot {
    /// Loads the open offers that have not ended by `day`.
    pub fn load(conn: &mut DbConnection, day: NaiveDate) -> StoreResult<Snapshot> {
        let open = offers::open_on(conn, &OfferFilter::default(), day)?;
        let ids: Vec<Uuid> = open.iter().map(|o| o.meta.id).collect();
        Ok(Snapshot {
            taken: Instant::now(),
            day,
            active: allocations::active_counts(conn, &ids)?,
            providers: providers::all(conn)?,
            offers: open,
        })
    }
}

impl Snapshot {
    /// The offers that pass `keep`, with their provider and occupancy, for the engine.
    pub fn candidates(
        &self,
        keep: impl Fn(&passgenau_domain::offer::OfferData) -> bool,
    ) -> Vec<passgenau_allocation::Candidate<'_>> {
        self.offers
            .iter()
            .filter(|o| keep(&o.data))
            .filter_map(|o| {
                self.providers
                    .get(&o.data.provider_id)
                    .map(|p| passgenau_allocation::Candidate {
                        id: o.meta.id,
                        offer: &o.data,
                        provider: &p.data,
                        active: self.active.get(&o.meta.id).copied().unwrap_or(0),
                    })
            })
            .collect()
    }
}

#[derive(Default)]
pub struct SnapshotCache {
    current: Mutex<Option<Arc<Snapshot>>>,
}

impl SnapshotCache {
    /// The snapshot for `day`: the cached one while it is fresh, else a new one. Other
    /// days (`?as_of=`) are loaded on their own and not cached.
    pub fn get(
        &self,
        conn: &mut DbConnection,
        day: NaiveDate,
        today: NaiveDate,
    ) -> StoreResult<Arc<Snapshot>> {
        if day != today {
            return Ok(Arc::new(Snapshot::load(conn, day)?));
        }
        // holding the lock while loading lets one request refresh and the others wait
        let mut slot = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            if s.day == day && s.taken.elapsed() < SNAPSHOT_TTL {
                return Ok(s.clone());
            }
        }
        let fresh = Arc::new(Snapshot::load(conn, day)?);
        *slot = Some(fresh.clone());
        Ok(fresh)
    }
}
