//! An instance's background duties besides cohort runs: sealing the audit log every
//! `PASSGENAU_AUDIT_SEAL_S` seconds (`app::audit_seal`), and the daily retention job
//! (`app::lifecycle::run_daily`: of several instances, the one that claims the day runs
//! it). Failures are logged and tried again at the next turn; they never stop serving.

use std::time::{Duration, Instant};

use crate::state::AppState;

/// How often an instance looks whether today's retention run is claimed yet.
const RETENTION_LOOK: Duration = Duration::from_secs(15 * 60);

/// Starts the thread (once per instance, from `serve`).
pub fn start(state: &AppState) -> Result<(), String> {
    let interval = crate::app::audit_seal::interval_from_env()?;
    let store = state.store.clone();
    let key = state.audit_key.clone();
    let years = state.retention_years;
    std::thread::Builder::new()
        .name("housekeeping".into())
        .spawn(move || {
            let mut last_look: Option<Instant> = None;
            loop {
                match crate::app::audit_seal::seal_pending(&store, &key) {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(entries = n, "audit entries sealed"),
                    Err(e) => tracing::warn!(error = %e, "the audit log could not be sealed; trying again"),
                }
                if last_look.is_none_or(|t| t.elapsed() >= RETENTION_LOOK) {
                    last_look = Some(Instant::now());
                    match crate::app::lifecycle::run_daily(&store, years, crate::app::today()) {
                        Ok(Some(r)) => tracing::info!(due = r.due, erased = r.erased, "retention run"),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "the retention run failed; trying again later"),
                    }
                }
                std::thread::sleep(interval);
            }
        })
        .map(drop)
        .map_err(|e| format!("start the housekeeping thread: {e}"))
}
