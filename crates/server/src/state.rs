//! Shared application state.

use std::sync::Arc;

use passgenau_allocation::ScoringConfig;
use passgenau_domain::eligibility::RuleParams;
use passgenau_store::Store;

use crate::auth::Tokens;
use crate::error::{ApiError, ApiResult};

/// What every handler can reach: the database and the token keys.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub tokens: Tokens,
    /// Administrative practice of the eligibility rules (configuration).
    pub rules: Arc<RuleParams>,
    /// Scoring factors of the recommendations (configuration, `docs/scoring.md`).
    pub scoring: Arc<ScoringConfig>,
    /// Key of the stable customer pseudonyms in exports (kept in the database).
    pub pseudonym_key: Arc<Vec<u8>>,
    /// Open offers for ranking, refreshed every second.
    pub offer_snapshot: Arc<crate::services::offer_snapshot::SnapshotCache>,
    /// Wakes this instance's cohort-run worker.
    pub run_signal: Arc<crate::services::cohort_runs::Signal>,
    /// Recent answers of `GET /availability`.
    pub availability: Arc<crate::services::availability_cache::AvailabilityCache>,
}

impl AppState {
    /// Starts the background worker of cohort runs (once per instance).
    pub fn start_worker(&self) {
        crate::services::cohort_runs::start_worker(
            self.store.clone(),
            self.rules.clone(),
            self.scoring.clone(),
            self.run_signal.clone(),
        );
    }
}

impl AppState {
    /// Runs blocking database work off the async workers.
    pub async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Store) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        actix_web::web::block(move || f(&store))
            .await
            .map_err(ApiError::from)?
    }
}
