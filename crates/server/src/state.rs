//! Shared application state.

use std::sync::Arc;

use passgenau_allocation::ScoringConfig;
use passgenau_domain::eligibility::RuleBook;
use passgenau_store::Store;

use crate::error::{ApiError, ApiResult};
use crate::tokens::Tokens;

/// What every handler can reach: the database and the token keys.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub tokens: Tokens,
    /// The eligibility rules' parameters over time (configuration).
    pub rules: Arc<RuleBook>,
    /// Scoring factors of the recommendations (configuration, `docs/scoring.md`).
    pub scoring: Arc<ScoringConfig>,
    /// Key of the stable customer pseudonyms in exports (`PASSGENAU_PSEUDONYM_KEY_FILE`,
    /// else kept in the database).
    pub pseudonym_key: Arc<Vec<u8>>,
    /// Key of the audit log's seal (`PASSGENAU_AUDIT_KEY_FILE`, else kept in the
    /// database; `app::audit_seal`).
    pub audit_key: Arc<Vec<u8>>,
    /// Years a closed case is kept before the retention job erases it
    /// (`PASSGENAU_RETENTION_YEARS`, default 10).
    pub retention_years: u32,
    /// Open offers for ranking, refreshed every second.
    pub offer_snapshot: Arc<crate::app::offer_snapshot::SnapshotCache>,
    /// Wakes this instance's cohort-run worker.
    pub run_signal: Arc<crate::app::cohort_runs::Signal>,
    /// Recent answers of `GET /availability`.
    pub availability: Arc<crate::app::availability_cache::AvailabilityCache>,
    /// Recent reads of accounts and keys for the credential check (`app::sessions`).
    pub sessions: Arc<crate::app::sessions::Sessions>,
    /// The single-sign-on issuer, if one is configured (`PASSGENAU_OIDC_*`).
    pub oidc: Option<Arc<crate::oidc::Oidc>>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`PASSGENAU_TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// Whether `POST /auth/login` takes passwords (`PASSGENAU_LOCAL_LOGIN`, default true).
    pub local_login: bool,
    /// Where uploads of `POST /imports` are spooled, and how large one may be.
    pub imports: Arc<crate::config::ImportSettings>,
}

impl AppState {
    /// Starts the background worker of cohort runs (once per instance).
    pub fn start_worker(&self) -> crate::app::cohort_runs::Worker {
        crate::app::cohort_runs::start_worker(
            self.store.clone(),
            self.rules.clone(),
            self.scoring.clone(),
            self.run_signal.clone(),
        )
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

impl AppState {
    /// [`AppState::db`] for work that reads social data: `f` opens sealed records with
    /// [`Audited::open`] and goes on while their batch is written; the answer is returned
    /// once the batch is committed (503 if it failed), and no database thread waits for it.
    pub async fn db_audited<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Store, &mut crate::app::audit::Audited) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (result, audited) = self
            .db(move |store| {
                let mut audited = crate::app::audit::Audited::default();
                let result = f(store, &mut audited);
                Ok((result, audited))
            })
            .await?;
        // an error reveals nothing: it need not wait (its entries are written all the same)
        let value = result?;
        for ticket in audited.0 {
            ticket.committed().await?;
        }
        Ok(value)
    }
}
