//! A short-lived in-memory snapshot of the open offers, their providers and occupancy,
//! shared by the recommendation requests of one instance. Ranking reads every open offer;
//! loading 2,000 of them per request would dominate its cost. The snapshot is at most
//! [`SNAPSHOT_TTL`] old: a recommendation may show a place that was taken a moment ago,
//! which is harmless because reserving checks capacity again inside its transaction.
//! When it expires, one request loads the next while the others keep ranking against the
//! previous one (for at most [`SNAPSHOT_MAX_AGE`]): a reload under the lock would stall
//! every recommendation of the instance once a second.

use passgenau_domain::ids::OfferId;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use passgenau_allocation::recommend::{recommend_arranged, Arrangement};
use passgenau_allocation::{CustomerContext, Recommendation, ScoringConfig};
use passgenau_domain::eligibility::{reference_day, RuleBook};
use passgenau_domain::offer::OfferData;
use passgenau_domain::provider::ProviderData;
use passgenau_store::error::StoreResult;
use passgenau_store::offers::OfferFilter;
use passgenau_store::{allocations, offers, providers, DbConnection};

pub const SNAPSHOT_TTL: Duration = Duration::from_secs(1);
/// While one request reloads an expired snapshot, the others use it up to this age.
pub const SNAPSHOT_MAX_AGE: Duration = Duration::from_secs(5);

/// An open offer with its provider and its active placements.
type Entries = Vec<(OfferId, OfferData, ProviderData, i64)>;
type Candidates<'a> = Vec<passgenau_allocation::Candidate<'a>>;

self_cell::self_cell!(
    /// The snapshot's offers and the engine's view of all of them, borrowed from them and
    /// made once when the snapshot is taken: building the 2,000 candidates on every
    /// recommendation would take ≈ 5 % of its CPU in profiles.
    struct Offers {
        owner: Entries,
        #[covariant]
        dependent: Candidates,
    }
);

pub struct Snapshot {
    pub taken: Instant,
    pub day: NaiveDate,
    /// Each open offer with its provider and its active placements, resolved once when
    /// the snapshot is taken (not per request). Offers whose provider is unknown are
    /// left out. Ordered by instrument and reference day, so the ranking judges each
    /// instrument's rules once per run of offers (see `passgenau_allocation::recommend`).
    offers: Offers,
    /// The entries arranged for the pruned ranking of `day`, made by the first
    /// recommendation against the snapshot (cohort runs do not need it).
    arrangement: OnceLock<Arrangement>,
}

impl Snapshot {
    /// Loads the open offers that have not ended by `day`.
    pub fn load(conn: &mut DbConnection, day: NaiveDate) -> StoreResult<Snapshot> {
        let open = offers::open_on(conn, &OfferFilter::default(), day)?;
        let ids: Vec<OfferId> = open.iter().map(|o| o.meta.id).collect();
        let active = allocations::active_counts(conn, &ids)?;
        let providers = providers::all(conn)?;
        let mut entries: Vec<_> = open
            .into_iter()
            .filter_map(|o| {
                let p = providers.get(&o.data.provider_id)?;
                let n = active.get(&o.meta.id).copied().unwrap_or(0);
                Some((o.meta.id, o.data, p.data.clone(), n))
            })
            .collect();
        entries.sort_by(|(a_id, a, ..), (b_id, b, ..)| {
            (&a.instrument_code, reference_day(a, day), a_id).cmp(&(
                &b.instrument_code,
                reference_day(b, day),
                b_id,
            ))
        });
        let offers = Offers::new(entries, |entries| {
            entries
                .iter()
                .map(|(id, offer, provider, active)| passgenau_allocation::Candidate {
                    id: *id,
                    offer,
                    provider,
                    active: *active,
                })
                .collect()
        });
        Ok(Snapshot {
            taken: Instant::now(),
            day,
            offers,
            arrangement: OnceLock::new(),
        })
    }

    /// The best `limit` offers for the customer as of the snapshot's day, only of
    /// instrument `only` if given (see `passgenau_allocation::recommend`).
    pub fn recommend(
        &self,
        ctx: &CustomerContext,
        only: Option<&str>,
        limit: usize,
        rules: &RuleBook,
        cfg: &ScoringConfig,
    ) -> Vec<Recommendation> {
        let candidates = self.offers.borrow_dependent();
        let arrangement = self
            .arrangement
            .get_or_init(|| Arrangement::new(candidates, self.day, cfg));
        recommend_arranged(ctx, candidates, arrangement, only, limit, self.day, rules, cfg)
    }

    /// The offers that pass `keep`, with their provider and occupancy, for the engine.
    pub fn candidates(&self, keep: impl Fn(&OfferData) -> bool) -> Vec<passgenau_allocation::Candidate<'_>> {
        self.offers
            .borrow_dependent()
            .iter()
            .filter(|c| keep(c.offer))
            .cloned()
            .collect()
    }
}

#[derive(Default)]
pub struct SnapshotCache {
    current: Mutex<Option<Arc<Snapshot>>>,
    /// Whether a request is loading the next snapshot while the others use the last one.
    refreshing: AtomicBool,
}

/// Clears the refreshing flag however the load ends.
struct Refreshing<'a>(&'a AtomicBool);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl SnapshotCache {
    /// Drops this instance's snapshot, so the next ranking reads the offers again (an
    /// offer's intake changed here; other instances follow within the snapshot's age).
    pub fn invalidate(&self) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

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
        let mut slot = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref().filter(|s| s.day == day) {
            let age = s.taken.elapsed();
            if age < SNAPSHOT_TTL {
                return Ok(s.clone());
            }
            if age < SNAPSHOT_MAX_AGE {
                if self.refreshing.swap(true, Ordering::AcqRel) {
                    // another request is loading the next one: use this one meanwhile
                    return Ok(s.clone());
                }
                let _flag = Refreshing(&self.refreshing);
                drop(slot);
                let fresh = Arc::new(Snapshot::load(conn, day)?);
                *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
                return Ok(fresh);
            }
        }
        // none yet, another day, or too old: load under the lock, so one request loads
        // and the others wait for it
        let fresh = Arc::new(Snapshot::load(conn, day)?);
        *slot = Some(fresh.clone());
        Ok(fresh)
    }
}
