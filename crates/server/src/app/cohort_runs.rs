//! Cohort runs in the background: `POST /allocation-runs` only queues; a worker thread in
//! every instance claims queued runs from the database (one instance wins each), scores
//! every customer × offer pair with the online engine, solves the min-cost flow and stores
//! the proposals. No HTTP request waits for a solve, a client that disconnects loses
//! nothing, and a run whose worker died (no heartbeat for [`STALE_AFTER`]) is claimed
//! again by the next worker that looks, in this instance or another.

use passgenau_domain::ids::{CustomerId, HouseholdId, RunId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use passgenau_allocation::cohort::{self, BudgetCap, CorridorCosts};
use passgenau_allocation::{Candidate, CustomerContext, ScoringConfig};
use passgenau_domain::eligibility::RuleBook;
use passgenau_domain::{target_groups, TargetGroup};
use passgenau_store::customers::{CustomerFilter, CustomerRecord};
use passgenau_store::runs::{self, Outcome, ProposalRecord};
use passgenau_store::{
    allocations, customers, households, plans, Access, DbConnection, Page, Personal, Store,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::offer_snapshot::Snapshot;

/// A run whose worker has not reported for this long is taken over.
pub const STALE_AFTER: Duration = Duration::from_secs(60);
/// Most customers one run may hold.
pub const MAX_RUN_CUSTOMERS: usize = 200_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunFilter {
    #[serde(default)]
    pub target_group: Option<TargetGroup>,
    #[serde(default)]
    pub district: Option<String>,
}

/// Body of `POST /allocation-runs`: the customers by ID or by filter, optionally only some
/// instruments, as of a date (default today).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    #[serde(default)]
    pub customer_ids: Option<Vec<CustomerId>>,
    #[serde(default)]
    pub filter: Option<RunFilter>,
    #[serde(default)]
    pub instrument_codes: Option<Vec<String>>,
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
}

/// Wakes the worker when a run is queued.
#[derive(Default)]
pub struct Signal {
    pending: Mutex<bool>,
    cv: Condvar,
}

impl Signal {
    pub fn notify(&self) {
        *self.pending.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cv.notify_all();
    }

    fn wait(&self, timeout: Duration) {
        let guard = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let (mut guard, _) = self
            .cv
            .wait_timeout_while(guard, timeout, |pending| !*pending)
            .unwrap_or_else(|p| p.into_inner());
        *guard = false;
    }
}

/// The run a worker holds: its ID and claim.
type Held = Arc<Mutex<Option<(RunId, String)>>>;

/// This instance's worker thread, to be stopped at shutdown.
pub struct Worker {
    thread: std::thread::JoinHandle<()>,
    signal: Arc<Signal>,
    stopping: Arc<AtomicBool>,
    held: Held,
    store: Store,
}

impl Worker {
    /// Stops the worker when the server shuts down. A run still being scored stops at the
    /// next batch of customers and goes back to the queue; one being solved or stored is
    /// waited for up to `grace`, and handed back if it is not done by then. Either way a
    /// restarted server, or another instance, takes it up at once instead of after
    /// [`STALE_AFTER`].
    pub fn stop(self, grace: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        self.signal.notify();
        let until = Instant::now() + grace;
        while !self.thread.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.thread.is_finished() {
            let _ = self.thread.join();
            return;
        }
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((id, claim)) = held {
            release(&self.store, id, &claim);
        }
    }
}

/// Hands a run back to the queue at shutdown (nothing if it is no longer this claim's).
fn release(store: &Store, id: RunId, claim: &str) {
    match store.write(|conn| runs::release(conn, id, claim)) {
        Ok(true) => tracing::info!(run = %id, "cohort run handed back to the queue at shutdown"),
        Ok(false) => {}
        Err(e) => tracing::warn!(run = %id, error = %e, "cohort run could not be handed back"),
    }
}

/// Starts this instance's worker thread.
pub fn start_worker(
    store: Store,
    rules: Arc<RuleBook>,
    scoring: Arc<ScoringConfig>,
    signal: Arc<Signal>,
) -> Worker {
    let held: Held = Arc::default();
    let stopping = Arc::new(AtomicBool::new(false));
    let thread = {
        let (store, signal, stopping, held) = (store.clone(), signal.clone(), stopping.clone(), held.clone());
        std::thread::Builder::new()
            .name("cohort-runs".into())
            .spawn(move || {
                while !stopping.load(Ordering::SeqCst) {
                    let stale = passgenau_store::records::now()
                        - chrono::Duration::from_std(STALE_AFTER).unwrap_or_default();
                    // the worker's writes (this claim, heartbeats, hand-backs) queue with
                    // the instance's other writers (`Store::write`): past the queue,
                    // SQLite's busy handler loses to them and the claim fails as locked
                    match store.write(|conn| runs::claim(conn, stale)) {
                        Ok(Some(run)) => {
                            let (Ok(id), Some(claim)) = (run.id.parse::<RunId>(), run.claim.clone()) else {
                                continue;
                            };
                            *held.lock().unwrap_or_else(|p| p.into_inner()) = Some((id, claim.clone()));
                            work(&store, &rules, &scoring, &stopping, id, &claim, &run.request);
                            *held.lock().unwrap_or_else(|p| p.into_inner()) = None;
                        }
                        Ok(None) => signal.wait(Duration::from_secs(1)),
                        Err(e) => {
                            tracing::warn!(error = %e, "cohort worker cannot reach the database");
                            signal.wait(Duration::from_secs(2));
                        }
                    }
                }
            })
            .expect("start the cohort worker")
    };
    Worker {
        thread,
        signal,
        stopping,
        held,
        store,
    }
}

/// Reports a run's progress, which is also its heartbeat, at most every 500 ms and at the
/// end, under the worker's claim.
pub struct Heartbeat<'a> {
    store: &'a Store,
    id: RunId,
    claim: &'a str,
    last: Instant,
    /// The claim is no longer this worker's: the run was taken over or handed back.
    pub lost: bool,
}

impl<'a> Heartbeat<'a> {
    pub fn new(store: &'a Store, id: RunId, claim: &'a str) -> Self {
        Self {
            store,
            id,
            claim,
            last: Instant::now(),
            lost: false,
        }
    }

    /// For the plan's progress callback: `false` once the claim is lost.
    pub fn beat(&mut self, done: usize, total: usize) -> bool {
        if !self.lost && (self.last.elapsed() > Duration::from_millis(500) || done == total) {
            self.last = Instant::now();
            let (id, claim) = (self.id, self.claim);
            if let Ok(false) = self
                .store
                .write(|conn| runs::progress(conn, id, claim, done as i64, total as i64))
            {
                self.lost = true;
            }
        }
        !self.lost
    }
}

/// Runs one claimed run to its end: done, failed, handed back (stopping) or given up
/// (taken over by another worker).
fn work(
    store: &Store,
    rules: &RuleBook,
    scoring: &ScoringConfig,
    stopping: &AtomicBool,
    id: RunId,
    claim: &str,
    request: &str,
) {
    let mut beat = Heartbeat::new(store, id, claim);
    let outcome = serde_json::from_str::<RunRequest>(request)
        .map_err(|e| format!("stored request unreadable: {e}"))
        .and_then(|req| {
            execute(store, rules, scoring, id, claim, &req, &mut |done, total| {
                !stopping.load(Ordering::SeqCst) && beat.beat(done, total)
            })
        });
    let lost = beat.lost;
    match outcome {
        Ok(Some(o)) => crate::observe::metrics().cohort_run(o.duration_ms as f64 / 1000.0),
        Ok(None) if lost => tracing::warn!(run = %id, "cohort run was taken over by another worker; stopped"),
        Ok(None) => release(store, id, claim),
        Err(e) => {
            tracing::warn!(run = %id, error = %e, "cohort run failed");
            let _ = store.write(|conn| runs::fail(conn, id, claim, &e));
        }
    }
}

/// Loads the cohort and the offers, plans, stores the proposals and marks the run done,
/// all under the worker's `claim`. `Ok(None)`: `progress` stopped it before the end.
pub fn execute(
    store: &Store,
    rules: &RuleBook,
    scoring: &ScoringConfig,
    run_id: RunId,
    claim: &str,
    req: &RunRequest,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Option<Outcome>, String> {
    let started = Instant::now();
    let today = chrono::Utc::now().date_naive();
    let day = req.as_of.unwrap_or(today);
    let err = |e: passgenau_store::StoreError| e.to_string();
    let mut audit = passgenau_store::personal::PendingAudit::default();
    let (contexts, snapshot) = store
        .read(|conn| {
            // the run reads the cohort's records on behalf of the person who asked for it,
            // in that person's role (only casework roles queue runs; a run queued from the
            // command line names no stored user and counts as a specialist's)
            let creator = runs::get(conn, run_id)?.created_by;
            let role = passgenau_store::users::by_username(conn, &creator)?
                .map_or(passgenau_domain::user::Role::Specialist, |u| u.role);
            let access = Access {
                actor: creator,
                role: role.as_str().into(),
                action: passgenau_store::audit::Action::Read,
                route: format!("cohort run {run_id}"),
            };
            let mut reads = Reads {
                access: &access,
                pending: &mut audit,
            };
            let cohort = load_cohort(conn, req, day, &mut reads)?;
            Ok::<_, passgenau_store::StoreError>((cohort, Snapshot::load(conn, day)?))
        })
        .map_err(err)?;
    let mut offers = snapshot.candidates(|d| {
        req.instrument_codes
            .as_ref()
            .is_none_or(|codes| codes.contains(&d.instrument_code))
    });
    offers.sort_by_key(|c| c.id);
    let budgets = store
        .read(|conn| budget_caps(conn, &offers, day.year()))
        .map_err(err)?;
    // no connection is held while the plan is made
    let Ok(result) = cohort::plan(
        &contexts,
        &offers,
        &budgets,
        day,
        rules,
        scoring,
        CorridorCosts::default(),
        progress,
    ) else {
        return Ok(None);
    };
    if !result.optimal {
        return Err("the solver could not certify an optimal assignment".into());
    }
    let proposals: Vec<ProposalRecord> = result
        .proposals
        .iter()
        .map(|p| ProposalRecord {
            id: passgenau_domain::ids::new_id(),
            run_id,
            customer_id: p.customer_id,
            offer_id: p.offer_id,
            score: p.score,
            explanation: serde_json::to_string(&p.explanation).unwrap_or_default(),
            decision: passgenau_domain::status::ProposalDecision::Pending,
            reason: None,
            decided_by: None,
            decided_at: None,
            allocation_id: None,
        })
        .collect();
    let outcome = Outcome {
        customers: result.customers as i64,
        offers: result.offers as i64,
        arcs: result.arcs as i64,
        objective: result.objective,
        assigned: result.assigned as i64,
        optimal: result.optimal,
        duration_ms: started.elapsed().as_millis() as i64,
        left_out: serde_json::to_string(&result.left_out).ok(),
    };
    let stored = std::time::Instant::now();
    let mut audit_time = std::time::Duration::ZERO;
    let entries = audit.len();
    store
        .write(|conn| -> Result<(), passgenau_store::StoreError> {
            // the claim first: a run handed on meanwhile stores nothing
            runs::finish(conn, run_id, claim, &outcome)?;
            // the reads of the cohort's records, with the proposals made of them
            let t = std::time::Instant::now();
            audit.append(conn)?;
            audit_time = t.elapsed();
            runs::insert_proposals(conn, &proposals)
        })
        .map_err(err)?;
    // what the per-person audit costs a run (docs/benchmarks.md, "audit per person")
    tracing::info!(
        run = %run_id,
        audit_entries = entries,
        audit_ms = audit_time.as_millis() as u64,
        store_ms = stored.elapsed().as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "cohort run stored"
    );
    Ok(Some(outcome))
}

/// The run's reads of people's records; their audit entries are appended with the
/// proposals, in the transaction that stores them.
struct Reads<'a> {
    access: &'a Access,
    pending: &'a mut passgenau_store::personal::PendingAudit,
}

impl Reads<'_> {
    fn open<T: passgenau_store::Subjects>(&mut self, sealed: Personal<T>) -> T {
        let (value, pending) = sealed.open_pending(self.access);
        self.pending.join(pending);
        value
    }
}

/// The customers of a run as the rules judge them, in ID order: the listed ones, or
/// everyone (of the district) up to [`MAX_RUN_CUSTOMERS`], of the target group asked for.
fn load_cohort(
    conn: &mut DbConnection,
    req: &RunRequest,
    day: NaiveDate,
    reads: &mut Reads<'_>,
) -> Result<Vec<CustomerContext>, passgenau_store::StoreError> {
    let mut records: Vec<CustomerRecord> = match &req.customer_ids {
        Some(ids) => reads.open(customers::get_many(conn, ids)?),
        None => {
            let filter = CustomerFilter {
                district: req.filter.as_ref().and_then(|f| f.district.clone()),
                ..Default::default()
            };
            let mut all = Vec::new();
            let mut page = Page {
                limit: 5_000,
                after: None,
            };
            loop {
                let p = reads.open(customers::list(conn, &filter, &page)?);
                all.extend(p.items);
                match p.next {
                    Some(n) if all.len() < MAX_RUN_CUSTOMERS => page.after = Some(n),
                    _ => break,
                }
            }
            all
        }
    };
    records.sort_by_key(|c| c.meta.id);
    let household_ids: Vec<HouseholdId> = records.iter().filter_map(|c| c.household_id).collect();
    let members = households::members_by_household(conn, &household_ids)?;
    let ids: Vec<CustomerId> = records.iter().map(|c| c.meta.id).collect();
    let mut histories = allocations::histories(conn, &ids)?;
    let wanted_group = req.filter.as_ref().and_then(|f| f.target_group);
    Ok(records
        .into_iter()
        .map(|c| {
            let household = c
                .household_id
                .and_then(|h| members.get(&h))
                .cloned()
                .unwrap_or_default();
            let (history, active_offers) = histories.remove(&c.meta.id).unwrap_or_default();
            CustomerContext {
                id: c.meta.id,
                data: c.data,
                household,
                history,
                active_offers,
            }
        })
        .filter(|ctx| {
            wanted_group
                .is_none_or(|g| target_groups::derive(ctx.id, &ctx.data, &ctx.household, day).contains(&g))
        })
        .collect())
}

/// Budgets, as places: what remains of each plan line divided by the dearest place of
/// the instrument (conservative; accepting a proposal checks the budget exactly).
fn budget_caps(
    conn: &mut DbConnection,
    offers: &[Candidate<'_>],
    year: i32,
) -> Result<HashMap<String, BudgetCap>, passgenau_store::StoreError> {
    let mut budgets: HashMap<String, BudgetCap> = HashMap::new();
    let mut dearest: HashMap<&str, i64> = HashMap::new();
    for o in offers {
        let e = dearest.entry(o.offer.instrument_code.as_str()).or_default();
        *e = (*e).max(o.offer.cost_per_place_cents);
    }
    for (code, cost) in dearest {
        if let Some(line) = plans::budget_line(conn, year, code)? {
            if cost > 0 {
                budgets.insert(
                    code.to_string(),
                    BudgetCap {
                        places: ((line.budget_cents - line.committed_cents) / cost).max(0),
                    },
                );
            }
        }
    }
    Ok(budgets)
}

// The use cases of `/allocation-runs`: each owns its transaction.

/// What a run request must hold beyond its shape.
pub fn precheck(req: &RunRequest) -> crate::app::AppResult<()> {
    use passgenau_domain::FieldError;
    let mut errors = Vec::new();
    match (&req.customer_ids, &req.filter) {
        (None, None) => errors.push(FieldError::new("customer_ids", "give customer_ids or a filter")),
        (Some(ids), _) if ids.is_empty() || ids.len() > MAX_RUN_CUSTOMERS => errors.push(FieldError::new(
            "customer_ids",
            format!("1 to {MAX_RUN_CUSTOMERS} IDs"),
        )),
        _ => {}
    }
    if req
        .instrument_codes
        .as_ref()
        .is_some_and(|c| c.is_empty() || c.len() > 100)
    {
        errors.push(FieldError::new(
            "instrument_codes",
            "1 to 100 codes, or leave it out",
        ));
    }
    if req
        .filter
        .as_ref()
        .and_then(|f| f.district.as_ref())
        .is_some_and(|d| d.chars().count() > 100)
    {
        errors.push(FieldError::new("filter.district", "at most 100 characters"));
    }
    crate::app::error::check_fields(errors)
}

/// A decision's reason, blank as none: at most 2,000 characters, no NUL; a rejection
/// records one.
pub fn precheck_decision(accept: bool, reason: Option<&str>) -> crate::app::AppResult<Option<String>> {
    use crate::app::AppError;
    let reason = reason.filter(|r| !r.trim().is_empty());
    if reason.is_some_and(|r| r.chars().count() > 2000 || r.contains('\0')) {
        return Err(AppError::invalid("reason", "at most 2000 characters, no NUL"));
    }
    if !accept && reason.is_none() {
        return Err(AppError::invalid("reason", "a rejection records its reason"));
    }
    Ok(reason.map(str::to_string))
}

/// Queues a run of known instruments; the worker takes it up.
pub fn queue(
    store: &Store,
    caller: &crate::identity::Caller,
    req: &RunRequest,
) -> crate::app::AppResult<RunId> {
    use crate::app::AppError;
    let id = passgenau_domain::ids::new_id();
    let request = serde_json::to_string(req).expect("requests serialise");
    store.write(|conn| {
        if let Some(codes) = &req.instrument_codes {
            for (i, code) in codes.iter().enumerate() {
                if let Err(passgenau_store::StoreError::NotFound) =
                    passgenau_store::instruments::get(conn, code)
                {
                    return Err(AppError::invalid(
                        format!("instrument_codes[{i}]"),
                        "unknown instrument",
                    ));
                }
            }
        }
        runs::create(conn, id, &request, &caller.username)?;
        Ok(id)
    })
}

/// A run's state.
/// Runs, newest first (they name no person: counts and the creator only).
pub fn list(
    store: &Store,
    filter: &runs::RunFilter,
    page: &Page,
) -> crate::app::AppResult<passgenau_store::PageOf<runs::RunRow>> {
    store.read(|conn| Ok(runs::list(conn, filter, page)?))
}

pub fn get(store: &Store, id: RunId) -> crate::app::AppResult<runs::RunRow> {
    store.read(|conn| runs::get(conn, id).map_err(crate::app::error::missing("allocation run")))
}

/// A page of a run's proposals; the customers named are audited as read.
pub fn proposals(
    store: &Store,
    audit: &mut crate::app::audit::Audited,
    caller: &crate::identity::Caller,
    route: &str,
    id: RunId,
    page: &Page,
) -> crate::app::AppResult<passgenau_store::PageOf<ProposalRecord>> {
    store.read(|conn| {
        drop(runs::get(conn, id).map_err(crate::app::error::missing("allocation run"))?);
        let read = crate::app::audit::access(caller, passgenau_store::audit::Action::Read, route);
        Ok(audit.open(store, &read, runs::proposals(conn, id, page)?))
    })
}

/// A person decides a proposal (invariant 5): accepting reserves the place through the
/// online placement (capacity, budget and eligibility judged again); rejecting records
/// the reason.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    store: &Store,
    rules: &RuleBook,
    caller: &crate::identity::Caller,
    route: &str,
    run_id: RunId,
    proposal_id: passgenau_domain::ids::ProposalId,
    accept: bool,
    reason: Option<&str>,
    today: NaiveDate,
) -> crate::app::AppResult<ProposalRecord> {
    use crate::app::{placements, AppError};
    use passgenau_domain::status::ProposalDecision;
    use passgenau_store::audit::Action;
    store.write(|conn| {
        let sealed =
            runs::proposal(conn, run_id, proposal_id).map_err(crate::app::error::missing("proposal"))?;
        // the decision is the audited access to the proposal (an accept also audits the
        // placement it makes)
        let update = crate::app::audit::access(caller, Action::Update, route);
        sealed.change(conn, &update, |conn, p| {
            if p.decision != ProposalDecision::Pending {
                return Err(AppError::conflict(
                    "already_decided",
                    "this proposal was decided already",
                ));
            }
            let allocation = if accept {
                let rec = placements::reserve(
                    conn,
                    rules,
                    caller,
                    route,
                    &placements::Request {
                        customer_id: p.customer_id,
                        offer_id: p.offer_id,
                        note: Some(format!("accepted from cohort run {run_id}")),
                        override_reason: None,
                        source: passgenau_store::allocations::Source::Cohort,
                    },
                    today,
                )?;
                Some(rec.meta.id)
            } else {
                None
            };
            let decision = if accept {
                ProposalDecision::Accepted
            } else {
                ProposalDecision::Rejected
            };
            Ok((
                runs::decide(conn, &p, decision, reason, &caller.username, allocation)?,
                None,
            ))
        })
    })
}
